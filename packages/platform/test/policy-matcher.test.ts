/**
 * Table-driven tests of the matcher: one row per rule field and edge. Each row is a policy, a
 * transaction and the verdict expected (action and the index of the deciding rule, or none).
 */
import type { PolicyRuleInput } from '@countersign/protocol';
import { describe, expect, it } from 'vitest';

import { evaluatePolicy } from '../src/policy/policy-evaluator.js';
import { PolicyPriceUnavailableError } from '../src/policy/policy-errors.js';
import {
  context,
  directory,
  Ledger,
  omitField,
  policy,
  rule,
  T0,
  tx,
  type TxOverrides,
} from './policy-fixtures.js';

interface Row {
  name: string;
  rules: PolicyRuleInput[];
  tx: TxOverrides;
  /** Index of the deciding rule, `null` for no match. */
  matched: number | null;
  action?: 'ALLOW' | 'BLOCK' | 'REQUIRE_APPROVAL';
}

const allowOnly = (overrides: Partial<PolicyRuleInput>) => [rule(overrides)];
/** A rule that names no initiator at all. */
const withoutOperators = omitField(rule(), 'operators');
const vault = (id: string) => ({ type: 'VAULT' as const, id });

const rows: Row[] = [
  // Precedence
  { name: 'no rule: blocked by policy', rules: [], tx: {}, matched: null, action: 'BLOCK' },
  { name: 'catch-all allows', rules: [rule()], tx: {}, matched: 0, action: 'ALLOW' },
  {
    name: 'first match wins: BLOCK before ALLOW',
    rules: [rule({ action: 'BLOCK' }), rule()],
    tx: {},
    matched: 0,
    action: 'BLOCK',
  },
  {
    name: 'first match wins: ALLOW before BLOCK',
    rules: [rule(), rule({ action: 'BLOCK' })],
    tx: {},
    matched: 0,
    action: 'ALLOW',
  },
  {
    name: 'a non-matching first rule is skipped',
    rules: [rule({ asset: 'ETH', action: 'BLOCK' }), rule()],
    tx: {},
    matched: 1,
    action: 'ALLOW',
  },
  // Initiator
  {
    name: 'initiator: services lists the API user',
    rules: allowOnly({ operators: { services: ['api-init'] } }),
    tx: {},
    matched: 0,
  },
  {
    name: 'initiator: users lists console users only, not an API user of that id',
    rules: allowOnly({ operators: { users: ['api-init'] } }),
    tx: {},
    matched: null,
  },
  {
    name: 'initiator: console user in users',
    rules: allowOnly({ operators: { users: ['alice'] } }),
    tx: { initiator: { kind: 'CONSOLE_USER', id: 'alice' } },
    matched: 0,
  },
  {
    name: 'initiator: member of a listed group',
    rules: allowOnly({ operators: { usersGroups: ['group-1'] } }),
    tx: { initiator: { kind: 'API_USER', id: 'api-2' } },
    matched: 0,
  },
  {
    name: 'initiator: not a member of the listed group',
    rules: allowOnly({ operators: { usersGroups: ['group-1'] } }),
    tx: {},
    matched: null,
  },
  {
    name: 'initiator: a rule without operators matches nobody',
    rules: [withoutOperators],
    tx: {},
    matched: null,
  },
  // Transaction type
  { name: 'type: TRANSFER by default', rules: [rule()], tx: {}, matched: 0 },
  {
    name: 'type: a TRANSFER rule does not match a contract call',
    rules: [rule()],
    tx: { operation: 'CONTRACT_CALL' },
    matched: null,
  },
  {
    name: 'type: CONTRACT_CALL rule',
    rules: allowOnly({ transactionType: 'CONTRACT_CALL' }),
    tx: { operation: 'CONTRACT_CALL' },
    matched: 0,
  },
  {
    name: 'type: applyForApprove extends TRANSFER to APPROVE',
    rules: allowOnly({ applyForApprove: true }),
    tx: { operation: 'APPROVE' },
    matched: 0,
  },
  {
    name: 'type: APPROVE without applyForApprove',
    rules: [rule()],
    tx: { operation: 'APPROVE' },
    matched: null,
  },
  {
    name: 'type: applyForTypedMessage extends CONTRACT_CALL to TYPED_MESSAGE',
    rules: allowOnly({ transactionType: 'CONTRACT_CALL', applyForTypedMessage: true }),
    tx: { operation: 'TYPED_MESSAGE', amount: '0', destination: undefined },
    matched: 0,
  },
  {
    name: 'type: RAW signing has no destination and matches a rule without dst',
    rules: allowOnly({ transactionType: 'RAW' }),
    tx: { operation: 'RAW', amount: '0', destination: undefined },
    matched: 0,
  },
  // Asset
  { name: 'asset: named asset', rules: allowOnly({ asset: 'BTC' }), tx: {}, matched: 0 },
  {
    name: 'asset: another asset',
    rules: allowOnly({ asset: 'ETH' }),
    tx: {},
    matched: null,
  },
  // Source
  {
    name: 'source: a named vault',
    rules: allowOnly({ src: { ids: [['0', 'VAULT']] } }),
    tx: {},
    matched: 0,
  },
  {
    name: 'source: another vault',
    rules: allowOnly({ src: { ids: [['0', 'VAULT']] } }),
    tx: { source: vault('1') },
    matched: null,
  },
  {
    name: 'source: any vault',
    rules: allowOnly({ src: { ids: [['*', 'VAULT']] } }),
    tx: { source: vault('2') },
    matched: 0,
  },
  {
    name: 'source: any vault is not an exchange',
    rules: allowOnly({ src: { ids: [['*', 'VAULT']] } }),
    tx: { source: { type: 'EXCHANGE', id: 'ex-1' } },
    matched: null,
  },
  {
    name: 'source: any exchange',
    rules: allowOnly({ src: { ids: [['*', 'EXCHANGE']] } }),
    tx: { source: { type: 'EXCHANGE', id: 'ex-1' } },
    matched: 0,
  },
  {
    name: 'source: any fiat account',
    rules: allowOnly({ src: { ids: [['*', 'FIAT_ACCOUNT']] } }),
    tx: { source: { type: 'FIAT_ACCOUNT', id: 'fiat-1' } },
    matched: 0,
  },
  {
    name: 'source: sub-type must agree',
    rules: allowOnly({ src: { ids: [['*', 'EXCHANGE', 'EXCHANGETEST']] } }),
    tx: { source: { type: 'EXCHANGE', id: 'ex-1', subType: 'INTERNAL' } },
    matched: null,
  },
  // Destination and address type
  {
    name: 'destination: a one-time address',
    rules: allowOnly({ dst: { ids: [['*', 'ONE_TIME_ADDRESS']] } }),
    tx: { destination: { type: 'ONE_TIME_ADDRESS' } },
    matched: 0,
  },
  {
    name: 'destination: a named vault',
    rules: allowOnly({ dst: { ids: [['1', 'VAULT']] } }),
    tx: { destination: vault('1') },
    matched: 0,
  },
  {
    name: 'destination: a dst constraint needs a destination',
    rules: allowOnly({ transactionType: 'RAW', dst: { ids: [['*', 'VAULT']] } }),
    tx: { operation: 'RAW', amount: '0', destination: undefined },
    matched: null,
  },
  {
    name: 'destination: an all-wildcard entry matches no destination too',
    rules: allowOnly({ transactionType: 'RAW', dst: { ids: [['*']] } }),
    tx: { operation: 'RAW', amount: '0', destination: undefined },
    matched: 0,
  },
  {
    name: 'address type: WHITELISTED refuses a one-time address',
    rules: allowOnly({ dstAddressType: 'WHITELISTED' }),
    tx: { destination: { type: 'ONE_TIME_ADDRESS' } },
    matched: null,
  },
  {
    name: 'address type: a vault destination counts as whitelisted',
    rules: allowOnly({ dstAddressType: 'WHITELISTED' }),
    tx: { destination: vault('1') },
    matched: 0,
  },
  {
    name: 'address type: ONE_TIME',
    rules: allowOnly({ dstAddressType: 'ONE_TIME' }),
    tx: { destination: { type: 'ONE_TIME_ADDRESS' } },
    matched: 0,
  },
  {
    name: 'address type: "*" takes both',
    rules: allowOnly({ dstAddressType: '*' }),
    tx: { destination: { type: 'ONE_TIME_ADDRESS' } },
    matched: 0,
  },
  // Native amounts: both bounds inclusive, compared exactly.
  ...(
    [
      ['0.99999999', null],
      ['1', 0],
      ['1.000', 0],
      ['2', 0],
      ['2.00000001', null],
    ] as const
  ).map(
    ([amount, matched]): Row => ({
      name: `native amount ${amount} against [1, 2]`,
      rules: allowOnly({ asset: 'BTC', amountCurrency: 'NATIVE', amount: '1', amountMax: '2' }),
      tx: { amount },
      matched,
    }),
  ),
  // USD amounts: BTC at $50000, so 0.002 BTC is exactly $100.
  ...(
    [
      ['0.00199999', null],
      ['0.002', 0],
      ['0.00200001', 0],
    ] as const
  ).map(
    ([amount, matched]): Row => ({
      name: `USD minimum: ${amount} BTC against $100`,
      rules: allowOnly({ amount: '100' }),
      tx: { amount },
      matched,
    }),
  ),
  ...(
    [
      ['0.002', 0],
      ['0.00200001', null],
    ] as const
  ).map(
    ([amount, matched]): Row => ({
      name: `USD maximum: ${amount} BTC against at most $100`,
      rules: allowOnly({ amountMax: '100' }),
      tx: { amount },
      matched,
    }),
  ),
  {
    name: 'USD with a fractional price: 1 ETH at $2000.5 is above $2000.49',
    rules: allowOnly({ amount: '2000.49', amountMax: '2000.5' }),
    tx: { assetId: 'ETH' },
    matched: 0,
  },
  {
    name: 'a limit above the amount falls through to the next rule',
    rules: [
      rule({ amount: '1000000', action: 'BLOCK' }),
      rule({ action: '2-TIER', authorizationGroups: { groups: [{ users: ['tywin'] }] } }),
    ],
    tx: {},
    matched: 1,
    action: 'REQUIRE_APPROVAL',
  },
];

describe('evaluatePolicy: one row per field and edge', () => {
  it.each(rows)('$name', async (row) => {
    const verdict = await evaluatePolicy(policy(...row.rules), tx(row.tx), context());
    expect(verdict.matchedRule?.index ?? null).toBe(row.matched);
    const expectedAction = row.action ?? (row.matched === null ? 'BLOCK' : 'ALLOW');
    expect(verdict.action).toBe(expectedAction);
    if (row.matched === null) {
      expect(verdict.subStatus).toBe('BLOCKED_BY_POLICY');
      expect(verdict.reason).toBe('no policy rule matches');
    }
  });
});

describe('evaluatePolicy: velocity window', () => {
  // At most 10 ETH per initiator per hour; past that, transfers are blocked.
  const velocity = policy(
    rule({
      asset: 'ETH',
      amountCurrency: 'NATIVE',
      amountScope: 'TIMEFRAME',
      amount: '10',
      periodSec: 3600,
      action: 'BLOCK',
    }),
    rule(),
  );
  const HOUR = 3600 * 1000;
  const ledger = () =>
    new Ledger()
      .add({ initiatorId: 'api-init', assetId: 'ETH', amount: '6', createdAt: T0 })
      .add({ initiatorId: 'someone-else', assetId: 'ETH', amount: '100', createdAt: T0 })
      .add({ initiatorId: 'api-init', assetId: 'BTC', amount: '100', createdAt: T0 });
  const eth = (amount: string, createdAt: number) => tx({ assetId: 'ETH', amount, createdAt });

  it.each([
    ['total 9.99 ETH: under the limit', '3.99', T0 + 1, 1],
    ['total exactly 10 ETH: the limit is reached', '4', T0 + 1, 0],
    ['last millisecond of the window: 6 ETH still counts', '4', T0 + HOUR - 1, 0],
    ['exactly one period later: 6 ETH rolled out', '4', T0 + HOUR, 1],
    ['a single transfer over the limit on its own', '10', T0 + 2 * HOUR, 0],
  ])('%s', async (_name, amount, at, matched) => {
    const book = ledger();
    const verdict = await evaluatePolicy(velocity, eth(amount, at), context({ ledger: book }));
    expect(verdict.matchedRule?.index).toBe(matched);
    expect(book.windowsAsked).toEqual([{ afterExclusive: at - HOUR, upToInclusive: at }]);
  });

  it('USD velocity sums every asset at its price', async () => {
    const usd = policy(
      rule({ amountScope: 'TIMEFRAME', periodSec: 60, amount: '50000', action: 'BLOCK' }),
      rule(),
    );
    const book = new Ledger().add({
      initiatorId: 'api-init',
      assetId: 'BTC',
      amount: '0.5',
      createdAt: T0 - 30_000,
    });
    // $25000 earlier; 12.496875 ETH × $2000.5 = $24999.9984375: the total is just under $50000.
    const under = await evaluatePolicy(usd, eth('12.496875', T0), context({ ledger: book }));
    expect(under.matchedRule?.index).toBe(1);
    // 12.496876 ETH × $2000.5 = $25000.000438: just over.
    const over = await evaluatePolicy(usd, eth('12.496876', T0), context({ ledger: book }));
    expect(over.matchedRule?.index).toBe(0);
    // 0.5 BTC more is exactly $50000: the limit is reached.
    const exact = await evaluatePolicy(usd, tx({ amount: '0.5' }), context({ ledger: book }));
    expect(exact.matchedRule?.index).toBe(0);
    expect(over.action).toBe('BLOCK');
  });
});

describe('evaluatePolicy: verdicts', () => {
  it('names the designated signers, groups expanded and deduplicated', async () => {
    const verdict = await evaluatePolicy(
      policy(
        rule({
          externalDescriptor: 'vault-transfers',
          designatedSigners: { users: ['api-2', 'api-3'], usersGroups: ['group-1'] },
        }),
      ),
      tx(),
      context(),
    );
    expect(verdict).toEqual({
      action: 'ALLOW',
      matchedRule: { index: 0, id: 'vault-transfers' },
      designatedSigners: ['api-2', 'api-3', 'api-1'],
      approvalRequirement: null,
      reason: 'rules[0]: allowed',
    });
  });

  it('2-TIER gives the approval requirement with defaults filled in', async () => {
    const verdict = await evaluatePolicy(
      policy(
        rule({
          action: '2-TIER',
          authorizationGroups: {
            logic: 'OR',
            groups: [{ users: ['tywin'] }, { usersGroups: ['approvers'], th: 2 }],
          },
        }),
      ),
      tx(),
      context(),
    );
    expect(verdict.action).toBe('REQUIRE_APPROVAL');
    expect(verdict.approvalRequirement).toEqual({
      logic: 'OR',
      allowInitiatorAsApprover: false,
      groups: [
        { approvers: ['tywin'], threshold: 1 },
        { approvers: ['tywin', 'cersei'], threshold: 2 },
      ],
    });
  });

  it('blocks when a designated signer has become a console user since publish', async () => {
    const dir = directory({ users: { 'api-2': 'CONSOLE_USER' } });
    const verdict = await evaluatePolicy(
      policy(rule({ designatedSigners: { usersGroups: ['group-1'] } })),
      tx(),
      context({ dir }),
    );
    expect(verdict.action).toBe('BLOCK');
    expect(verdict.subStatus).toBe('BLOCKED_BY_POLICY');
    expect(verdict.matchedRule?.index).toBe(0);
    expect(verdict.reason).toContain('api-2');
  });

  it('blocks an exchange source matched by a rule with several signers', async () => {
    const verdict = await evaluatePolicy(
      policy(rule({ designatedSigners: { usersGroups: ['group-1'] } })),
      tx({ source: { type: 'EXCHANGE', id: 'ex-1' } }),
      context(),
    );
    expect(verdict.action).toBe('BLOCK');
    expect(verdict.reason).toContain('single API user');
  });

  it('fails, never guesses, when a needed price is missing', async () => {
    const eurRule = policy(rule({ amountCurrency: 'EUR', amount: '10' }));
    await expect(evaluatePolicy(eurRule, tx(), context())).rejects.toBeInstanceOf(
      PolicyPriceUnavailableError,
    );
  });

  it('asks no price for a rule with no amount condition', async () => {
    const ctx = context({ prices: {} });
    const verdict = await evaluatePolicy(policy(rule()), tx({ assetId: 'NEWCOIN' }), ctx);
    expect(verdict.action).toBe('ALLOW');
    expect(ctx.pricesAsked).toEqual([]);
  });

  it('asks each price once per evaluation', async () => {
    const ctx = context();
    await evaluatePolicy(
      policy(rule({ amount: '1000000' }), rule({ amount: '100000' }), rule({ amount: '1' })),
      tx(),
      ctx,
    );
    expect(ctx.pricesAsked).toEqual(['USD:BTC']);
  });
});
