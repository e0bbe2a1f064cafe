// Exact decimal amounts: properties against an independent oracle (scaled BigInt arithmetic on
// the strings, written separately here), and the grammar the protocol schema admits.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  addDecimal,
  compareDecimal,
  formatDecimal,
  parseDecimal,
} from '../src/reference/decimal.js';

const SCALE = 40;
/** Oracle: the amount as an integer number of 10^-40 units. */
function units(text: string): bigint {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole! + fraction.padEnd(SCALE, '0'));
}

const amount = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 10n ** 30n }),
    fc.integer({ min: 0, max: 30 }),
    fc.integer({ min: 0, max: 5 }),
  )
  .map(([n, scale, zeros]) => {
    const digits = n.toString().padStart(scale + 1, '0');
    const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
    return zeros > 0 && scale === 0
      ? `${text}.${'0'.repeat(zeros)}`
      : text + '0'.repeat(scale > 0 ? zeros : 0);
  });

describe('decimal amounts', () => {
  it('compare and add agree with scaled integer arithmetic', () => {
    fc.assert(
      fc.property(amount, amount, (a, b) => {
        const x = parseDecimal(a)!;
        const y = parseDecimal(b)!;
        const [ua, ub] = [units(a), units(b)];
        expect(compareDecimal(x, y)).toBe(ua < ub ? -1 : ua > ub ? 1 : 0);
        expect(units(formatDecimal(addDecimal(x, y)))).toBe(ua + ub);
        expect(units(formatDecimal(x))).toBe(ua);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts exactly the protocol grammar', () => {
    for (const ok of ['0', '0.0', '10', '0.010000000000000000', '123456789.000001']) {
      expect(parseDecimal(ok)).toBeDefined();
    }
    for (const bad of [
      '',
      '-1',
      '+1',
      '01',
      '1.',
      '.5',
      '1e3',
      '1,5',
      ' 1',
      '0x10',
      'NaN',
      '1'.repeat(81),
    ]) {
      expect(parseDecimal(bad)).toBeUndefined();
    }
    expect(formatDecimal(parseDecimal('10.500')!)).toBe('10.5');
    expect(formatDecimal(parseDecimal('0.000')!)).toBe('0');
  });
});
