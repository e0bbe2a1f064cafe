/**
 * The two policy designs of the product documentation's high-availability chapter ("Configuring
 * Policy rules for a group of API Co-signers"), written as Countersign rules and evaluated against
 * representative transfers. Group 1 (`group-1`) holds the API users of the co-signers; Tywin is
 * the console user who approves.
 *
 * Method 1 includes the co-signers for vault sources only; method 2 first catches exchange and
 * fiat sources without them, then designates them for everything else.
 */
import type { PolicyRuleInput } from '@countersign/protocol';
import { describe, expect, it } from 'vitest';

import { evaluatePolicy } from '../src/policy/policy-evaluator.js';
import { validatePolicy } from '../src/policy/policy-validation.js';
import { context, directory, policy, rule, tx, type TxOverrides } from './policy-fixtures.js';

/** Any initiator, transfers, any asset, > $0 in a single transaction, whitelisted or one-time. */
const transfer = (overrides: Partial<PolicyRuleInput>) =>
  rule({ dstAddressType: '*', ...overrides });
const approvedByTywin = { authorizationGroups: { groups: [{ users: ['tywin'], th: 1 }] } };
const group1Signs = { designatedSigners: { usersGroups: ['group-1'] } };

const method1 = policy(
  transfer({ externalDescriptor: 'm1-r1', src: { ids: [['*', 'VAULT']] }, ...group1Signs }),
  transfer({ externalDescriptor: 'm1-r2', action: '2-TIER', ...approvedByTywin }),
);

const method2 = policy(
  transfer({
    externalDescriptor: 'm2-r1',
    src: {
      ids: [
        ['*', 'EXCHANGE'],
        ['*', 'FIAT_ACCOUNT'],
      ],
    },
    action: '2-TIER',
    ...approvedByTywin,
  }),
  transfer({ externalDescriptor: 'm2-r2', action: '2-TIER', ...approvedByTywin, ...group1Signs }),
);

const fromVault: TxOverrides = { source: { type: 'VAULT', id: '1' } };
const fromVaultToOneTime: TxOverrides = {
  ...fromVault,
  destination: { type: 'ONE_TIME_ADDRESS' },
};
const fromExchange: TxOverrides = { source: { type: 'EXCHANGE', id: 'ex-1' } };
const fromFiat: TxOverrides = { source: { type: 'FIAT_ACCOUNT', id: 'fiat-1' } };
const consoleInitiated: TxOverrides = {
  ...fromVault,
  initiator: { kind: 'CONSOLE_USER', id: 'alice' },
  assetId: 'ETH',
  amount: '250',
};
const contractCall: TxOverrides = { ...fromVault, operation: 'CONTRACT_CALL' };

const tywin = {
  logic: 'AND',
  allowInitiatorAsApprover: false,
  groups: [{ approvers: ['tywin'], threshold: 1 }],
};

describe.each([
  ['method 1', method1],
  ['method 2', method2],
])('HA chapter, %s', (_name, design) => {
  it('publishes', () => {
    expect(validatePolicy(design, directory()).status).toBe('SUCCESS');
  });
});

describe('HA chapter, method 1: co-signers only for vault sources', () => {
  it.each([
    ['vault to whitelisted address', fromVault, 'ALLOW', 'm1-r1', ['api-1', 'api-2'], null],
    ['vault to one-time address', fromVaultToOneTime, 'ALLOW', 'm1-r1', ['api-1', 'api-2'], null],
    ['console user from a vault', consoleInitiated, 'ALLOW', 'm1-r1', ['api-1', 'api-2'], null],
    ['exchange source', fromExchange, 'REQUIRE_APPROVAL', 'm1-r2', [], tywin],
    ['fiat source', fromFiat, 'REQUIRE_APPROVAL', 'm1-r2', [], tywin],
  ])('%s', async (_name, overrides, action, ruleId, signers, approvals) => {
    const verdict = await evaluatePolicy(method1, tx(overrides), context());
    expect(verdict.action).toBe(action);
    expect(verdict.matchedRule?.id).toBe(ruleId);
    expect(verdict.designatedSigners).toEqual(signers);
    expect(verdict.approvalRequirement).toEqual(approvals);
  });

  it('a contract call matches neither rule: blocked by policy', async () => {
    const verdict = await evaluatePolicy(method1, tx(contractCall), context());
    expect(verdict).toMatchObject({
      action: 'BLOCK',
      matchedRule: null,
      subStatus: 'BLOCKED_BY_POLICY',
    });
  });
});

describe('HA chapter, method 2: co-signers excluded from exchange and fiat sources', () => {
  it.each([
    ['exchange source', fromExchange, 'm2-r1', []],
    ['fiat source', fromFiat, 'm2-r1', []],
    ['vault to whitelisted address', fromVault, 'm2-r2', ['api-1', 'api-2']],
    ['vault to one-time address', fromVaultToOneTime, 'm2-r2', ['api-1', 'api-2']],
    ['console user from a vault', consoleInitiated, 'm2-r2', ['api-1', 'api-2']],
  ])('%s', async (_name, overrides, ruleId, signers) => {
    const verdict = await evaluatePolicy(method2, tx(overrides), context());
    expect(verdict.action).toBe('REQUIRE_APPROVAL');
    expect(verdict.matchedRule?.id).toBe(ruleId);
    expect(verdict.designatedSigners).toEqual(signers);
    expect(verdict.approvalRequirement).toEqual(tywin);
  });

  it('without its exclusion rule, an exchange transfer is blocked, never sent to a group', async () => {
    const onlyRule2 = policy(transfer({ action: '2-TIER', ...approvedByTywin, ...group1Signs }));
    expect(validatePolicy(onlyRule2, directory()).status).toBe('SUCCESS');
    const verdict = await evaluatePolicy(onlyRule2, tx(fromExchange), context());
    expect(verdict).toMatchObject({ action: 'BLOCK', subStatus: 'BLOCKED_BY_POLICY' });
    expect(verdict.designatedSigners).toEqual([]);
  });

  it('naming the group on the exchange rule itself is refused at publish', () => {
    const wrong = policy(
      transfer({
        src: { ids: [['*', 'EXCHANGE']] },
        action: '2-TIER',
        ...approvedByTywin,
        ...group1Signs,
      }),
    );
    const result = validatePolicy(wrong, directory());
    expect(result.status).toBe('INVALID_CONFIGURATION');
    expect(result.checkResult.results[0]?.errors.map((e) => e.errorCodeName)).toEqual([
      'SINGLE_SIGNER_REQUIRED',
    ]);
  });
});
