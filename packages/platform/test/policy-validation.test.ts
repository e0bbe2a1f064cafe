/**
 * Bad drafts: the decoder refuses malformed ones with the rule and JSON path; publish-time
 * validation reports each semantic problem on its rule with a Fireblocks-shaped check result.
 */
import type { PolicyRuleInput } from '@countersign/protocol';
import { describe, expect, it } from 'vitest';

import { decodePolicyRules } from '../src/policy/policy-decoder.js';
import { PolicyDecodeError } from '../src/policy/policy-errors.js';
import { validatePolicy } from '../src/policy/policy-validation.js';
import { directory, omitField, policy, rule } from './policy-fixtures.js';

function decodeFailure(json: unknown): PolicyDecodeError {
  try {
    decodePolicyRules(json);
  } catch (error) {
    if (error instanceof PolicyDecodeError) return error;
    throw error;
  }
  throw new Error('the draft decoded');
}

describe('decodePolicyRules', () => {
  it.each([
    {
      name: 'unknown top-level field',
      json: { rules: [], version: 2 },
      path: '/version',
      ruleIndex: undefined,
      says: 'unknown field "version"',
    },
    {
      name: 'unknown field in a rule',
      json: { rules: [rule(), rule(), { ...rule(), colour: 'red' }] },
      path: '/rules/2/colour',
      ruleIndex: 2,
      says: 'rules[2] (/rules/2/colour): unknown field "colour"',
    },
    {
      name: 'deprecated single-value field',
      json: { rules: [{ ...rule(), operator: '*' }] },
      path: '/rules/0/operator',
      ruleIndex: 0,
      says: 'unknown field "operator"',
    },
    {
      name: 'unknown nested field',
      json: { rules: [rule({ operators: { wildcard: '*', groups: ['g'] } as never })] },
      path: '/rules/0/operators/groups',
      ruleIndex: 0,
      says: 'unknown field "groups"',
    },
    {
      name: 'missing required field',
      json: { rules: [omitField(rule(), 'amountScope')] },
      path: '/rules/0',
      ruleIndex: 0,
      says: 'missing field "amountScope"',
    },
    {
      name: 'action outside the list',
      json: { rules: [rule(), rule({ action: 'REQUIRE_APPROVAL' as never })] },
      path: '/rules/1/action',
      ruleIndex: 1,
      says: 'must be one of "ALLOW", "BLOCK", "2-TIER"',
    },
    {
      name: 'amount with an exponent (string)',
      json: { rules: [rule({ amount: '1e5' })] },
      path: '/rules/0/amount',
      ruleIndex: 0,
      says: 'must be a non-negative decimal (string or number) without exponent',
    },
    {
      name: 'amount with an exponent (number)',
      json: { rules: [rule({ amount: 1e-7 })] },
      path: '/rules/0/amount',
      ruleIndex: 0,
      says: 'without exponent',
    },
    {
      name: 'negative amountMax',
      json: { rules: [rule({ amountMax: -1 })] },
      path: '/rules/0/amountMax',
      ruleIndex: 0,
      says: 'must be a non-negative decimal',
    },
    {
      name: 'transaction type outside the list',
      json: { rules: [rule({ transactionType: 'SWAP' as never })] },
      path: '/rules/0/transactionType',
      ruleIndex: 0,
      says: '"RAW", "TYPED_MESSAGE", "PROGRAM_CALL"',
    },
    {
      name: 'unknown account type',
      json: {
        rules: [
          rule({
            src: {
              ids: [
                ['*', 'VAULT'],
                ['*', 'BANK'],
              ],
            },
          }),
        ],
      },
      path: '/rules/0/src/ids/1/1',
      ruleIndex: 0,
      says: 'account type must be one of',
    },
    {
      name: 'not an object',
      json: [rule()],
      path: '/',
      ruleIndex: undefined,
      says: 'policy draft: /:',
    },
  ])('refuses $name', ({ json, path, ruleIndex, says }) => {
    const error = decodeFailure(json);
    expect(error.code).toBe('ERR_POLICY_MALFORMED');
    expect(error.status).toBe(400);
    expect(error.path).toBe(path);
    expect(error.ruleIndex).toBe(ruleIndex);
    expect(error.message).toContain(says);
  });

  it('normalises a JSON number amount to its decimal text and copies the input', () => {
    const input = { rules: [rule({ amount: 12.5, amountMax: 100 })] };
    const decoded = decodePolicyRules(input);
    expect(decoded.rules[0]?.amount).toBe('12.5');
    expect(decoded.rules[0]?.amountMax).toBe('100');
    delete decoded.rules[0]!.operators!.wildcard;
    expect(input.rules[0]?.operators?.wildcard).toBe('*');
  });

  it('reads a missing rules list as an empty policy', () => {
    expect(decodePolicyRules({})).toEqual({ rules: [] });
  });
});

/** The (index, errorCodeName, errorField) of every error, for compact expectations. */
function problems(...rules: PolicyRuleInput[]) {
  const validation = validatePolicy(policy(...rules), directory());
  return validation.checkResult.results.flatMap((r) =>
    r.errors.map((e) => [r.index, e.errorCodeName, e.errorField]),
  );
}

const group1 = { usersGroups: ['group-1'] };
const exchangeSource = { ids: [['*', 'EXCHANGE']] };
const tywinApproves = { groups: [{ users: ['tywin'], th: 1 }] };

describe('validatePolicy', () => {
  it('a valid policy: SUCCESS, one ok result per rule', () => {
    const validation = validatePolicy(
      policy(
        rule({ src: { ids: [['0', 'VAULT']] }, designatedSigners: group1 }),
        rule({ action: '2-TIER', authorizationGroups: tywinApproves }),
      ),
      directory(),
    );
    expect(validation).toEqual({
      status: 'SUCCESS',
      checkResult: {
        errors: 0,
        results: [
          { index: 0, status: 'ok', errors: [] },
          { index: 1, status: 'ok', errors: [] },
        ],
      },
    });
  });

  it('reports the rule number and the reason, Fireblocks-shaped', () => {
    const validation = validatePolicy(
      policy(rule({ asset: 'BTC' }), rule({ designatedSigners: { usersGroups: ['empty'] } })),
      directory(),
    );
    expect(validation.status).toBe('INVALID_CONFIGURATION');
    expect(validation.checkResult.errors).toBe(1);
    expect(validation.checkResult.results[0]).toEqual({ index: 0, status: 'ok', errors: [] });
    expect(validation.checkResult.results[1]).toEqual({
      index: 1,
      status: 'failure',
      errors: [
        {
          errorField: 'designatedSigners',
          errorCodeName: 'EMPTY_GROUP',
          errorCode: 5,
          errorMessage: 'rules[1]: user group "empty" has no members',
        },
      ],
    });
  });

  it.each([
    {
      name: 'an empty designated-signer group',
      rules: [rule({ designatedSigners: { usersGroups: ['empty'] } })],
      expected: [[0, 'EMPTY_GROUP', 'designatedSigners']],
    },
    {
      name: 'a designatedSigners naming nobody',
      rules: [rule({ designatedSigners: { users: [] } })],
      expected: [[0, 'EMPTY_DESIGNATED_SIGNERS', 'designatedSigners']],
    },
    {
      name: 'console users mixed with API users',
      rules: [rule({ designatedSigners: { users: ['api-1', 'alice'] } })],
      expected: [[0, 'DESIGNATED_SIGNER_NOT_API_USER', 'designatedSigners']],
    },
    {
      name: 'a designated group mixing console and API users',
      rules: [rule({ designatedSigners: { usersGroups: ['mixed'] } })],
      expected: [[0, 'DESIGNATED_SIGNER_NOT_API_USER', 'designatedSigners']],
    },
    {
      name: 'an exchange source with a designated group',
      rules: [rule({ src: exchangeSource, designatedSigners: group1 })],
      expected: [[0, 'SINGLE_SIGNER_REQUIRED', 'designatedSigners']],
    },
    {
      name: 'a fiat source with two designated API users',
      rules: [
        rule({
          src: { ids: [['*', 'FIAT_ACCOUNT']] },
          designatedSigners: { users: ['api-1', 'api-2'] },
        }),
      ],
      expected: [[0, 'SINGLE_SIGNER_REQUIRED', 'designatedSigners']],
    },
    {
      name: 'contradictory amounts',
      rules: [rule({ amount: '100.01', amountMax: '100' })],
      expected: [[0, 'CONTRADICTORY_AMOUNTS', 'amount']],
    },
    {
      name: 'no initiator at all',
      rules: [rule({ operators: {} })],
      expected: [[0, 'RULE_NEVER_MATCHES', 'operators']],
    },
    {
      name: 'an empty source list',
      rules: [rule({ src: { ids: [] } })],
      expected: [[0, 'RULE_NEVER_MATCHES', 'src']],
    },
    {
      name: 'ONE_TIME addresses but only vault destinations',
      rules: [rule({ dstAddressType: 'ONE_TIME', dst: { ids: [['*', 'VAULT']] } })],
      expected: [[0, 'RULE_NEVER_MATCHES', 'dstAddressType']],
    },
    {
      name: 'a destination on raw message signing',
      rules: [rule({ transactionType: 'RAW', dst: { ids: [['*', 'VAULT']] } })],
      expected: [[0, 'RULE_NEVER_MATCHES', 'dst']],
    },
    {
      name: 'an address type on typed message signing',
      rules: [rule({ transactionType: 'TYPED_MESSAGE', dstAddressType: 'WHITELISTED' })],
      expected: [[0, 'RULE_NEVER_MATCHES', 'dstAddressType']],
    },
    {
      name: 'a rule shadowed by an earlier catch-all',
      rules: [rule({ action: 'BLOCK' }), rule({ asset: 'BTC', src: exchangeSource })],
      expected: [[1, 'RULE_SHADOWED', 'rule']],
    },
    {
      name: 'a rule shadowed by an earlier wider amount range',
      rules: [
        rule({ asset: 'BTC', amount: '10', amountMax: '1000' }),
        rule({ asset: 'BTC', amount: '100', amountMax: '200', operators: { services: ['api-1'] } }),
      ],
      expected: [[1, 'RULE_SHADOWED', 'rule']],
    },
    {
      name: 'unknown console user, group and vault',
      rules: [
        rule({
          operators: { users: ['bob'], usersGroups: ['nobody'] },
          src: { ids: [['99', 'VAULT']] },
        }),
      ],
      expected: [
        [0, 'UNKNOWN_USER', 'operators'],
        [0, 'UNKNOWN_GROUP', 'operators'],
        [0, 'UNKNOWN_VAULT', 'src'],
      ],
    },
    {
      name: 'an API user listed among console users',
      rules: [rule({ operators: { users: ['api-1'] } })],
      expected: [[0, 'WRONG_USER_KIND', 'operators']],
    },
    {
      name: 'an unknown designated signer',
      rules: [rule({ designatedSigners: { users: ['api-9'] } })],
      expected: [[0, 'UNKNOWN_USER', 'designatedSigners']],
    },
    {
      name: 'a 2-TIER rule without approvers',
      rules: [rule({ action: '2-TIER' })],
      expected: [[0, 'INVALID_APPROVALS', 'authorizationGroups']],
    },
    {
      name: 'a threshold above the group size',
      rules: [
        rule({ action: '2-TIER', authorizationGroups: { groups: [{ users: ['tywin'], th: 2 }] } }),
      ],
      expected: [[0, 'INVALID_APPROVALS', 'authorizationGroups']],
    },
    {
      name: 'approvers on an ALLOW rule',
      rules: [rule({ authorizationGroups: tywinApproves })],
      expected: [[0, 'INVALID_FIELD', 'authorizationGroups']],
    },
    {
      name: 'designated signers on a BLOCK rule',
      rules: [rule({ action: 'BLOCK', designatedSigners: group1 })],
      expected: [[0, 'INVALID_FIELD', 'designatedSigners']],
    },
    {
      name: 'a velocity window of zero seconds',
      rules: [rule({ amountScope: 'TIMEFRAME', amount: '10' })],
      expected: [[0, 'INVALID_FIELD', 'periodSec']],
    },
    {
      name: 'a native limit over every asset',
      rules: [rule({ amountCurrency: 'NATIVE', amount: '5' })],
      expected: [[0, 'INVALID_FIELD', 'amount']],
    },
    {
      name: 'applyForTypedMessage on a TRANSFER rule',
      rules: [rule({ applyForTypedMessage: true })],
      expected: [[0, 'INVALID_FIELD', 'transactionType']],
    },
    {
      name: 'raw message constraints (not supported yet)',
      rules: [
        rule({ transactionType: 'RAW', rawMessageSigning: { algorithm: 'MPC_ECDSA_SECP256K1' } }),
      ],
      expected: [[0, 'UNSUPPORTED', 'rawMessageSigning']],
    },
    {
      name: 'aggregation across initiators (not supported)',
      rules: [rule({ amountAggregation: { operators: 'ACROSS_ALL_MATCHES' } })],
      expected: [[0, 'UNSUPPORTED', 'amountAggregation']],
    },
    {
      name: 'a rule id used twice',
      rules: [
        rule({ asset: 'BTC', externalDescriptor: 'r' }),
        rule({ asset: 'ETH', externalDescriptor: 'r' }),
      ],
      expected: [[1, 'DUPLICATE_RULE_ID', 'externalDescriptor']],
    },
  ])('rejects $name', ({ rules, expected }) => {
    expect(problems(...rules)).toEqual(expected);
  });

  it.each([
    {
      name: 'equal minimum and maximum',
      rules: [rule({ amount: '100', amountMax: '100.00' })],
    },
    {
      name: 'an exchange source with one designated API user',
      rules: [rule({ src: exchangeSource, designatedSigners: { users: ['api-1'] } })],
    },
    {
      name: 'a narrow BLOCK before a wider ALLOW (overlap, not shadowing)',
      rules: [rule({ asset: 'BTC', amount: '100', action: 'BLOCK' }), rule()],
    },
    {
      name: 'the same rule for two disjoint sources',
      rules: [rule({ src: { ids: [['0', 'VAULT']] } }), rule({ src: { ids: [['1', 'VAULT']] } })],
    },
    {
      name: 'an earlier range that does not contain the later one',
      rules: [rule({ amount: '10', amountMax: '100' }), rule({ amount: '50', amountMax: '150' })],
    },
    {
      name: 'raw signing with an all-wildcard destination entry',
      rules: [rule({ transactionType: 'RAW', dst: { ids: [['*']] }, dstAddressType: '*' })],
    },
    {
      name: 'a group as initiator set, then anyone',
      rules: [rule({ operators: { usersGroups: ['group-1'] } }), rule({ asset: 'BTC' })],
    },
  ])('accepts $name', ({ rules }) => {
    expect(problems(...rules)).toEqual([]);
  });
});
