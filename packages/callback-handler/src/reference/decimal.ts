/**
 * Exact decimal amounts for the rules: the protocol's amounts are decimal strings, and money is
 * never compared or summed as floating point. A value is a bigint of units at a given scale.
 * @module
 */

export interface Decimal {
  units: bigint;
  scale: number;
}

const DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/** Parses a non-negative decimal string; undefined if it is not one. */
export function parseDecimal(text: string): Decimal | undefined {
  if (text.length > 80) return undefined;
  const match = DECIMAL.exec(text);
  if (match === null) return undefined;
  const fraction = match[2] ?? '';
  return { units: BigInt(match[1]! + fraction), scale: fraction.length };
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [
    a.units * 10n ** BigInt(scale - a.scale),
    b.units * 10n ** BigInt(scale - b.scale),
    scale,
  ];
}

export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return { units: x + y, scale };
}

export const ZERO: Decimal = { units: 0n, scale: 0 };

export function formatDecimal(d: Decimal): string {
  const digits = d.units.toString().padStart(d.scale + 1, '0');
  if (d.scale === 0) return digits;
  const whole = digits.slice(0, digits.length - d.scale);
  const fraction = digits.slice(digits.length - d.scale).replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}
