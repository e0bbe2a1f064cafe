/**
 * Properties of the policy engine over generated policies and transactions (fast-check): the
 * first-match rule itself, a catch-all last rule, reordering rules that cannot overlap, the
 * soundness of shadowing detection, and exact decimal arithmetic.
 */
import type { PolicyRuleInput } from '@countersign/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  compareAmounts,
  formatAmount,
  parseDecimalAmount,
  type DecimalAmount,
} from '../src/policy/decimal-amount.js';
import { evaluatePolicy } from '../src/policy/policy-evaluator.js';
import { ruleCovers } from '../src/policy/rule-coverage.js';
import { context, Ledger, policy, rule, T0, tx, type TxOverrides } from './policy-fixtures.js';

const tywinApproves = { groups: [{ users: ['tywin'] }] };

/** Rules over a small vocabulary, so that generated rules and transactions often meet. */
const ruleArb = (actions: Array<'ALLOW' | 'BLOCK' | '2-TIER'>): fc.Arbitrary<PolicyRuleInput> =>
  fc
    .record({
      action: fc.constantFrom(...actions),
      asset: fc.constantFrom('*', 'BTC', 'ETH'),
      operators: fc.constantFrom<NonNullable<PolicyRuleInput['operators']>>(
        { wildcard: '*' },
        { services: ['api-init'] },
        { usersGroups: ['group-1'] },
        { users: ['alice'] },
      ),
      src: fc.constantFrom<string[][] | undefined>(
        undefined,
        [['*', 'VAULT']],
        [['0', 'VAULT']],
        [['*', 'EXCHANGE']],
      ),
      dst: fc.constantFrom<string[][] | undefined>(
        undefined,
        [['*', 'ONE_TIME_ADDRESS']],
        [['*', 'VAULT']],
        [['*']],
      ),
      dstAddressType: fc.constantFrom(
        undefined,
        '*' as const,
        'WHITELISTED' as const,
        'ONE_TIME' as const,
      ),
      amountCurrency: fc.constantFrom('USD' as const, 'NATIVE' as const),
      amountScope: fc.constantFrom('SINGLE_TX' as const, 'TIMEFRAME' as const),
      amount: fc.constantFrom('0', '0.5', '1', '100', '50000'),
      amountMax: fc.constantFrom(undefined, '1', '2', '100000'),
      signer: fc.boolean(),
    })
    .map(({ src, dst, amountMax, dstAddressType, signer, ...fields }) => {
      const built: PolicyRuleInput = rule({ ...fields, periodSec: 60 });
      if (src !== undefined) built.src = { ids: src };
      if (dst !== undefined) built.dst = { ids: dst };
      if (amountMax !== undefined) built.amountMax = amountMax;
      if (dstAddressType !== undefined) built.dstAddressType = dstAddressType;
      if (fields.action === '2-TIER') built.authorizationGroups = tywinApproves;
      if (signer && fields.action !== 'BLOCK') built.designatedSigners = { users: ['api-1'] };
      return built;
    });

const txArb: fc.Arbitrary<TxOverrides> = fc.record({
  initiator: fc.constantFrom(
    { kind: 'API_USER' as const, id: 'api-init' },
    { kind: 'API_USER' as const, id: 'api-2' },
    { kind: 'CONSOLE_USER' as const, id: 'alice' },
  ),
  assetId: fc.constantFrom('BTC', 'ETH', 'USDC'),
  amount: fc.constantFrom('0', '0.5', '1', '1.5', '2', '100', '2500'),
  source: fc.constantFrom(
    { type: 'VAULT' as const, id: '0' },
    { type: 'VAULT' as const, id: '1' },
    { type: 'EXCHANGE' as const, id: 'ex-1' },
  ),
  destination: fc.constantFrom(
    undefined,
    { type: 'ONE_TIME_ADDRESS' as const },
    { type: 'VAULT' as const, id: '2' },
    { type: 'UNMANAGED' as const, id: 'addr-1' },
  ),
});

/** Earlier transfers of api-init inside and outside a 60 s window. */
const ledger = () =>
  new Ledger()
    .add({ initiatorId: 'api-init', assetId: 'BTC', amount: '0.75', createdAt: T0 - 10_000 })
    .add({ initiatorId: 'api-init', assetId: 'ETH', amount: '3', createdAt: T0 - 60_000 });

const evaluate = (rules: PolicyRuleInput[], overrides: TxOverrides) =>
  evaluatePolicy(policy(...rules), tx(overrides), context({ ledger: ledger() }));

describe('policy engine properties', () => {
  it('the deciding rule is the first rule that matches on its own', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(ruleArb(['ALLOW', 'BLOCK', '2-TIER']), { maxLength: 6 }),
        txArb,
        async (rules, t) => {
          const verdict = await evaluate(rules, t);
          let first: number | null = null;
          for (const [i, r] of rules.entries()) {
            if ((await evaluate([r], t)).matchedRule !== null) {
              first = i;
              break;
            }
          }
          expect(verdict.matchedRule?.index ?? null).toBe(first);
        },
      ),
    );
  });

  it('a catch-all last rule means nothing is BLOCKED_BY_POLICY', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(ruleArb(['ALLOW', '2-TIER']), { maxLength: 6 }),
        txArb,
        async (rules, t) => {
          const verdict = await evaluate([...rules, rule()], t);
          expect(verdict.matchedRule).not.toBeNull();
          expect(verdict.subStatus).toBeUndefined();
        },
      ),
    );
  });

  it('swapping two rules that cannot overlap (different assets) changes nothing', async () => {
    const tagged = (id: string) => (r: PolicyRuleInput) => ({ ...r, externalDescriptor: id });
    await fc.assert(
      fc.asyncProperty(
        ruleArb(['ALLOW', 'BLOCK', '2-TIER']).map((r) => tagged('a')({ ...r, asset: 'BTC' })),
        ruleArb(['ALLOW', 'BLOCK', '2-TIER']).map((r) => tagged('b')({ ...r, asset: 'ETH' })),
        fc.array(ruleArb(['ALLOW', 'BLOCK', '2-TIER']), { maxLength: 4 }),
        txArb,
        async (a, b, rest, t) => {
          const ab = await evaluate([a, b, ...rest], t);
          const ba = await evaluate([b, a, ...rest], t);
          expect(ba.action).toBe(ab.action);
          expect(ba.matchedRule?.id).toBe(ab.matchedRule?.id);
          expect(ba.designatedSigners).toEqual(ab.designatedSigners);
        },
      ),
    );
  });

  it('a rule reported as shadowed is never the deciding rule', async () => {
    // The earlier rule is the later one with some fields widened to "any", so covers are common.
    const widenings = fc.record({
      operators: fc.boolean(),
      asset: fc.boolean(),
      src: fc.boolean(),
      dst: fc.boolean(),
      dstAddressType: fc.boolean(),
      amount: fc.boolean(),
    });
    let covered = 0;
    await fc.assert(
      fc.asyncProperty(
        ruleArb(['ALLOW', 'BLOCK', '2-TIER']),
        widenings,
        fc.constantFrom('ALLOW' as const, 'BLOCK' as const),
        txArb,
        async (later, widen, action, t) => {
          const { src, dst, amountMax, ...kept } = later;
          const earlier: PolicyRuleInput = rule({
            ...kept,
            action,
            ...(widen.operators ? { operators: { wildcard: '*' } } : {}),
            ...(widen.asset ? { asset: '*' } : {}),
            ...(widen.dstAddressType ? { dstAddressType: '*' } : {}),
            ...(widen.amount ? { amount: '0' } : {}),
          });
          delete earlier.authorizationGroups;
          delete earlier.designatedSigners;
          if (!widen.src && src !== undefined) earlier.src = src;
          if (!widen.dst && dst !== undefined) earlier.dst = dst;
          if (!widen.amount && amountMax !== undefined) earlier.amountMax = amountMax;
          const [e, l] = policy(earlier, later).rules;
          if (!ruleCovers(e!, l!)) return;
          covered += 1;
          const decided = (await evaluate([earlier, later], t)).matchedRule?.index ?? null;
          expect(decided).not.toBe(1);
          if ((await evaluate([later], t)).matchedRule !== null) expect(decided).toBe(0);
        },
      ),
    );
    expect(covered).toBeGreaterThan(10);
  });
});

describe('decimal amounts', () => {
  const amountArb = fc
    .record({
      units: fc.bigInt({ min: 0n, max: 10n ** 30n }),
      scale: fc.integer({ min: 0, max: 20 }),
    })
    .map(({ units, scale }): DecimalAmount => ({ units, scale }));

  it('format then parse gives an equal amount, with no trailing fractional zero', () => {
    fc.assert(
      fc.property(amountArb, (a) => {
        const text = formatAmount(a);
        const back = parseDecimalAmount(text);
        expect(back).toBeDefined();
        expect(compareAmounts(back!, a)).toBe(0);
        expect(text).not.toMatch(/\.\d*0$/);
      }),
    );
  });

  it('comparison agrees with cross-multiplied integers', () => {
    fc.assert(
      fc.property(amountArb, amountArb, (a, b) => {
        const left = a.units * 10n ** BigInt(b.scale);
        const right = b.units * 10n ** BigInt(a.scale);
        expect(compareAmounts(a, b)).toBe(left < right ? -1 : left > right ? 1 : 0);
      }),
    );
  });

  it('trailing zeros do not change a value', () => {
    fc.assert(
      fc.property(amountArb, fc.integer({ min: 1, max: 10 }), (a, zeros) => {
        const text = formatAmount(a);
        const padded = text.includes('.')
          ? text + '0'.repeat(zeros)
          : `${text}.${'0'.repeat(zeros)}`;
        expect(compareAmounts(parseDecimalAmount(padded)!, a)).toBe(0);
      }),
    );
  });
});
