/**
 * Exact decimal arithmetic for policy amounts: a non-negative value is `units / 10^scale` with
 * `units` a bigint. Comparisons bring both sides to the larger scale, so `"1.50"` equals
 * `"1.5"` and nothing is ever rounded — a float would let an amount slip past a limit by an ulp.
 */
import { POLICY_DECIMAL_PATTERN } from '@countersign/protocol';

export interface DecimalAmount {
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL = new RegExp(POLICY_DECIMAL_PATTERN);

/** Longest accepted text: far beyond any asset's supply, short enough to keep bigint work trivial. */
const MAX_DECIMAL_LENGTH = 80;

export const ZERO_AMOUNT: DecimalAmount = { units: 0n, scale: 0 };

/** Parses `"12.5"`; `undefined` for anything that is not a non-negative plain decimal. */
export function parseDecimalAmount(text: string): DecimalAmount | undefined {
  if (text.length > MAX_DECIMAL_LENGTH || !DECIMAL.test(text)) return undefined;
  const dot = text.indexOf('.');
  if (dot < 0) return { units: BigInt(text), scale: 0 };
  const fraction = text.slice(dot + 1);
  return { units: BigInt(text.slice(0, dot) + fraction), scale: fraction.length };
}

/** Like {@link parseDecimalAmount} but for values already checked at a boundary. */
export function decimalAmount(text: string): DecimalAmount {
  const parsed = parseDecimalAmount(text);
  if (parsed === undefined) throw new RangeError('not a non-negative decimal amount');
  return parsed;
}

function rescale(a: DecimalAmount, scale: number): bigint {
  return a.units * 10n ** BigInt(scale - a.scale);
}

/** -1, 0 or 1. */
export function compareAmounts(a: DecimalAmount, b: DecimalAmount): -1 | 0 | 1 {
  const scale = Math.max(a.scale, b.scale);
  const x = rescale(a, scale);
  const y = rescale(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function addAmounts(a: DecimalAmount, b: DecimalAmount): DecimalAmount {
  const scale = Math.max(a.scale, b.scale);
  return { units: rescale(a, scale) + rescale(b, scale), scale };
}

/** Exact product: the scales add (a native amount times a unit price). */
export function multiplyAmounts(a: DecimalAmount, b: DecimalAmount): DecimalAmount {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

export function isZeroAmount(a: DecimalAmount): boolean {
  return a.units === 0n;
}

/** Canonical text: no trailing fractional zeros (`"1.50"` → `"1.5"`). */
export function formatAmount(a: DecimalAmount): string {
  let { units, scale } = a;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  if (scale === 0) return units.toString();
  const digits = units.toString().padStart(scale + 1, '0');
  return `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}
