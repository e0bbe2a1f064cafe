/**
 * The amount condition of a rule: the transaction's value (SINGLE_TX), or the initiator's total in
 * the velocity window including this transaction (TIMEFRAME), must lie in
 * `[amount, amountMax]` — both ends inclusive, in the rule's currency.
 *
 * Window: a velocity rule with `periodSec = P` evaluated for a transaction created at `T` counts
 * the initiator's transactions created in `(T − P·1000 ms, T]`. A transaction created at `t`
 * therefore rolls out of the window exactly at `t + P·1000` ms.
 *
 * NATIVE amounts compare native units of the transaction's asset (the window total counts that
 * asset only); USD / EUR amounts convert every asset at the price source's current unit price.
 */
import type { PolicyRule } from '@countersign/protocol';

import {
  addAmounts,
  compareAmounts,
  decimalAmount,
  isZeroAmount,
  multiplyAmounts,
  ZERO_AMOUNT,
  type DecimalAmount,
} from './decimal-amount.js';
import type {
  PolicyEvaluationContext,
  PolicyTransaction,
  PriceCurrency,
  VelocityWindow,
} from './policy-context.js';
import { PolicyPriceUnavailableError } from './policy-errors.js';

/** Bounds of the window of a velocity rule for a transaction created at `createdAt` (ms). */
export function velocityWindow(periodSec: number, createdAt: number): VelocityWindow {
  return { afterExclusive: createdAt - periodSec * 1000, upToInclusive: createdAt };
}

/** `amount` 0 with no `amountMax`: every transaction matches, no price or total is looked up. */
export function isUnconditionalAmount(rule: PolicyRule): boolean {
  return rule.amountMax === undefined && isZeroAmount(decimalAmount(rule.amount));
}

export function amountInRange(rule: PolicyRule, value: DecimalAmount): boolean {
  if (compareAmounts(value, decimalAmount(rule.amount)) < 0) return false;
  return rule.amountMax === undefined || compareAmounts(value, decimalAmount(rule.amountMax)) <= 0;
}

/** One price per asset and currency for a whole evaluation, so every rule sees the same value. */
export type PriceLookup = (assetId: string, currency: PriceCurrency) => Promise<DecimalAmount>;

export function memoizedPrices(context: PolicyEvaluationContext): PriceLookup {
  const cache = new Map<string, Promise<DecimalAmount>>();
  return (assetId, currency) => {
    const key = `${currency}\u0000${assetId}`;
    let price = cache.get(key);
    if (price === undefined) {
      price = context.prices.unitPrice(assetId, currency).then((text) => {
        if (text === undefined) throw new PolicyPriceUnavailableError(assetId, currency);
        return decimalAmount(text);
      });
      cache.set(key, price);
    }
    return price;
  };
}

async function valueIn(
  rule: PolicyRule,
  assetId: string,
  amount: DecimalAmount,
  prices: PriceLookup,
): Promise<DecimalAmount> {
  if (rule.amountCurrency === 'NATIVE') return amount;
  return multiplyAmounts(amount, await prices(assetId, rule.amountCurrency));
}

export async function amountMatches(
  rule: PolicyRule,
  tx: PolicyTransaction,
  context: PolicyEvaluationContext,
  prices: PriceLookup,
): Promise<boolean> {
  if (isUnconditionalAmount(rule)) return true;
  let value = await valueIn(rule, tx.assetId, decimalAmount(tx.amount), prices);
  if (rule.amountScope === 'TIMEFRAME') {
    const window = velocityWindow(rule.periodSec, tx.createdAt);
    const totals = await context.windowTotals.initiatorTotals(tx.initiator.id, window);
    let earlier = ZERO_AMOUNT;
    for (const total of totals) {
      if (rule.amountCurrency === 'NATIVE' && total.assetId !== tx.assetId) continue;
      const amount = decimalAmount(total.amount);
      earlier = addAmounts(earlier, await valueIn(rule, total.assetId, amount, prices));
    }
    value = addAmounts(value, earlier);
  }
  return amountInRange(rule, value);
}
