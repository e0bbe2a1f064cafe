// The rules file: a full example parses; every kind of mistake is refused with the field named.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { loadRulesFile, parseRules } from '../src/index.js';
import { EXAMPLE_RULES } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'callback-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(json: unknown): string {
  try {
    parseRules(json, 'rules.json');
    return 'accepted';
  } catch (error) {
    expect((error as { code: string }).code).toBe('ERR_CALLBACK_RULES_INVALID');
    return (error as Error).message;
  }
}

const withAsset = (asset: object) => ({ ...EXAMPLE_RULES, assets: { ETH: asset } });

describe('rules file', () => {
  it('parses the documented example', () => {
    const rules = parseRules(EXAMPLE_RULES);
    expect(rules.operations).toEqual(['TRANSFER']);
    expect(rules.longestWindowMs).toBe(86_400_000);
    expect(parseRules({ version: 1, defaultAction: 'REJECT', assets: {} }).operations).toEqual([
      'TRANSFER',
    ]);
  });

  it('names the bad field of each mistake', () => {
    expect(errorOf({ ...EXAMPLE_RULES, version: 2 })).toMatch(/^rules\.json: \/version: /);
    expect(errorOf({ ...EXAMPLE_RULES, defaultAction: 'RETRY' })).toMatch(
      /\/defaultAction: must be one of "APPROVE", "REJECT"/,
    );
    expect(errorOf({ ...EXAMPLE_RULES, extra: true })).toMatch(/\/: unknown field "extra"/);
    expect(errorOf(withAsset({ allowlist: 'ANY', maxAmout: '1' }))).toMatch(
      /\/assets\/ETH: unknown field "maxAmout"/,
    );
    expect(errorOf(withAsset({ allowlist: 'ANY', maxAmount: 10 }))).toMatch(
      /\/assets\/ETH\/maxAmount/,
    );
    expect(errorOf(withAsset({ allowlist: 'ANY', maxAmount: '1e3' }))).toMatch(
      /\/assets\/ETH\/maxAmount/,
    );
    expect(errorOf({ ...EXAMPLE_RULES, assets: { 'ETH ': { allowlist: 'ANY' } } })).toMatch(
      /\/assets: unknown field "ETH "/,
    );
    expect(errorOf(withAsset({ maxAmount: '1' }))).toMatch(
      /\/assets\/ETH: missing field "allowlist"/,
    );
    expect(errorOf(withAsset({ allowlist: 'ANY', velocity: [{ windowSeconds: 60 }] }))).toMatch(
      /\/assets\/ETH\/velocity\/0: needs maxAmount, maxCount or both/,
    );
    expect(
      errorOf({
        ...EXAMPLE_RULES,
        businessHours: { ...EXAMPLE_RULES.businessHours, timeZone: 'Mars/Olympus' },
      }),
    ).toMatch(/\/businessHours\/timeZone: unknown IANA time zone "Mars\/Olympus"/);
    expect(
      errorOf({
        ...EXAMPLE_RULES,
        businessHours: {
          timeZone: 'UTC',
          windows: [{ days: ['MON'], start: '18:00', end: '09:00' }],
        },
      }),
    ).toMatch(/\/businessHours\/windows\/0: start must be before end/);
    expect(
      errorOf({
        ...EXAMPLE_RULES,
        businessHours: {
          timeZone: 'UTC',
          windows: [{ days: ['Monday'], start: '09:00', end: '17:00' }],
        },
      }),
    ).toMatch(/\/businessHours\/windows\/0\/days\/0/);
    expect(errorOf({ ...EXAMPLE_RULES, denylist: [{ address: '0x1', id: '2' }] })).toMatch(
      /\/denylist\/0/,
    );
  });

  it('reports an unreadable or non-JSON file by name', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "version": 1, ');
    await expect(loadRulesFile(bad)).rejects.toThrow(/bad\.json: not JSON/);
    await expect(loadRulesFile(join(dir, 'missing.json'))).rejects.toThrow(
      /missing\.json: cannot read \(ENOENT\)/,
    );
  });
});
