import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { auditEntryHash, GENESIS_HASH } from '../src/audit/audit-chain.js';
import { canonicalJson, normaliseJson } from '../src/audit/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [{ d: true, c: null }, 'x'], A: 'upper' })).toBe(
      '{"A":"upper","a":[{"c":null,"d":true},"x"],"b":1}',
    );
  });

  it('applies toJSON as JSON.stringify does: Date, Buffer, nested', () => {
    const at = new Date('2024-05-06T07:08:09.010Z');
    expect(canonicalJson({ at })).toBe('{"at":"2024-05-06T07:08:09.010Z"}');
    expect(canonicalJson(at)).toBe('"2024-05-06T07:08:09.010Z"');
    expect(canonicalJson({ key: Buffer.from([1, 2]) })).toBe(
      '{"key":{"data":[1,2],"type":"Buffer"}}',
    );
    expect(canonicalJson([{ nested: { toJSON: () => ({ z: 1, y: 2 }) } }])).toBe(
      '[{"nested":{"y":2,"z":1}}]',
    );
  });

  it('drops what JSON drops, as JSON.stringify does', () => {
    expect(canonicalJson({ u: undefined, f: () => 1, s: Symbol('s'), k: 1 })).toBe('{"k":1}');
    expect(canonicalJson([undefined, () => 1])).toBe('[null,null]');
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson(-0)).toBe('0');
    expect(canonicalJson(new Map([['a', 1]]))).toBe('{}');
  });

  it('refuses non-finite numbers and BigInt instead of writing null', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
    expect(() => canonicalJson([Infinity])).toThrow(/non-finite/);
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it('gives the same result for a value and for its JSON round trip (what the database returns)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.date({ noInvalidDate: true }), (value, date) => {
        const withDate = { value, date, nested: [date, { date }] };
        const stored = JSON.parse(JSON.stringify(withDate)) as unknown;
        expect(canonicalJson(stored)).toBe(canonicalJson(withDate));
        expect(normaliseJson(withDate)).toEqual(stored);
      }),
      { numRuns: 200 },
    );
  });

  it('an audit entry whose details hold a Date hashes the same before and after storage', () => {
    const entry = {
      id: '00000000-0000-4000-8000-000000000001',
      workspaceId: null,
      at: new Date('2024-01-01T00:00:00Z'),
      actorKind: 'system',
      actorId: null,
      action: 'test',
      subject: null,
      details: { expiresAt: new Date('2024-02-01T00:00:00Z'), raw: Buffer.from('ab') },
    };
    const fromDatabase = {
      ...entry,
      details: JSON.parse(JSON.stringify(entry.details)) as Record<string, unknown>,
    };
    expect(auditEntryHash(GENESIS_HASH, entry)).toBe(auditEntryHash(GENESIS_HASH, fromDatabase));
  });
});
