// The primitives under DKLs23 presigning's hot loops (gf128.ts, hashing.ts, hash.ts), each
// against a plain reference implementation kept in this file (bit-by-bit GF(2^128) on bigints,
// noble's SHA-2 and RFC 9380 hash_to_field) on random inputs, and against known answers pinned
// from the implementation before the 2026-11-27 speed-ups (commit 8b45b05), on inputs drawn from
// a fixed SHA-256 stream: a faster version has to compute the same bytes, not merely
// self-consistent ones.
import fc from 'fast-check';
import { hash_to_field } from '@noble/curves/abstract/hash-to-curve.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { gfFromBytes, gfInnerProduct, gfMul, gfSelectSum, gfToBytes } from '../src/dkls23/gf128.js';
import {
  dkls23Hasher,
  fastHash,
  fastHash512,
  fastHashToScalar,
  FramedInput,
  hashToScalars,
  Q,
  scalarBelowQAt,
  scalarToBytes,
  uint256At,
  writeUint256,
} from '../src/dkls23/hashing.js';
import { SecretScalar } from '../src/dkls23/native-ecdh.js';
import { encodedFieldsLength, encodeFields, sessionHasher, writeFields } from '../src/hash.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** `n` bytes of SHA-256(label ‖ u32be(ctr)), ctr = 0, 1, …: fixed inputs for known answers. */
function stream(label: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let ctr = 0, off = 0; off < n; ctr++, off += 32) {
    const block = sha256(concat(utf8(label), Uint8Array.of(0, 0, ctr >>> 8, ctr & 0xff)));
    out.set(block.subarray(0, Math.min(32, n - off)), off);
  }
  return out;
}

// ---- references ----

/** Element ↔ bigint: bit i of the element (coefficient of x^i) is bit i mod 8 of byte ⌊i/8⌋. */
const toPoly = (b: Uint8Array, at = 0): bigint =>
  BigInt(
    '0x' +
      (hex(
        b
          .subarray(at, at + 16)
          .slice()
          .reverse(),
      ) || '0'),
  );
const fromPoly = (p: bigint): Uint8Array =>
  Uint8Array.from(Buffer.from(p.toString(16).padStart(32, '0'), 'hex').reverse());

/** Schoolbook carry-less product, then reduction by x^128 = x^7 + x^2 + x + 1. */
function mulRef(a: bigint, b: bigint): bigint {
  let product = 0n;
  for (let i = 0n; i < 128n; i++) if ((a >> i) & 1n) product ^= b << i;
  for (let i = 254n; i >= 128n; i--)
    if ((product >> i) & 1n) product ^= (1n << i) | (0x87n << (i - 128n));
  return product;
}

function innerProductRef(chis: Uint8Array, rows: Uint8Array, count: number): Uint8Array {
  let acc = 0n;
  for (let k = 0; k < count; k++) acc ^= mulRef(toPoly(chis, 16 * k), toPoly(rows, 16 * k));
  return fromPoly(acc);
}

function selectSumRef(chis: Uint8Array, bits: Uint8Array, count: number): Uint8Array {
  let acc = 0n;
  for (let k = 0; k < count; k++)
    if ((((bits[k >>> 3] ?? 0) >>> (k & 7)) & 1) === 1) acc ^= toPoly(chis, 16 * k);
  return fromPoly(acc);
}

function fieldsRef(fields: readonly Uint8Array[]): Uint8Array {
  return concat(
    ...fields.flatMap((f) => [Uint8Array.of(0, 0, f.length >>> 8, f.length & 0xff), f]),
  );
}

/** `H(tag, fields…)` of specs/dkls23.md "Conventions", on noble's SHA-2. */
const hRef = (
  hash: (message: Uint8Array) => Uint8Array,
  prefix: string,
  tag: string,
  fields: Uint8Array[],
) => hash(concat(utf8(prefix + tag), fieldsRef(fields)));

/** `Hq(tag, fields…)`: RFC 9380 §5.2 hash_to_field, expand_message_xmd with noble's SHA-256. */
function hqRef(tag: string, fields: Uint8Array[]): bigint {
  const [[scalar]] = hash_to_field(fieldsRef(fields), 1, {
    DST: dkls23Hasher.prefix + tag,
    p: Q,
    m: 1,
    k: 128,
    expand: 'xmd',
    hash: sha256,
  }) as [[bigint]];
  return scalar;
}

const fields = fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 });

// ---- GF(2^128) ----

describe('GF(2^128) primitives against the schoolbook reference', () => {
  const element = fc.uint8Array({ minLength: 16, maxLength: 16 });

  it('gfMul', () => {
    fc.assert(
      fc.property(element, element, (a, b) => {
        expect(hex(gfToBytes(gfMul(gfFromBytes(a), gfFromBytes(b))))).toBe(
          hex(fromPoly(mulRef(toPoly(a), toPoly(b)))),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('gfInnerProduct (nibble-sliced) on random and extreme rows', () => {
    const rowsOf = (n: number) =>
      fc.uint8Array({ minLength: 16 * n, maxLength: 16 * n }).map((b) => ({ n, b }));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(rowsOf(n), rowsOf(n))),
        ([chis, rows]) => {
          expect(hex(gfToBytes(gfInnerProduct(chis.b, rows.b, chis.n)))).toBe(
            hex(innerProductRef(chis.b, rows.b, chis.n)),
          );
        },
      ),
      { numRuns: 100 },
    );
    // All-ones χ and rows (every slot of every nibble position), then a single x^127 term.
    const ones = new Uint8Array(16 * 3).fill(0xff);
    expect(hex(gfToBytes(gfInnerProduct(ones, ones, 3)))).toBe(hex(innerProductRef(ones, ones, 3)));
    const top = new Uint8Array(16);
    top[15] = 0x80;
    expect(hex(gfToBytes(gfInnerProduct(top, top, 1)))).toBe(hex(innerProductRef(top, top, 1)));
  });

  it('gfInnerProduct reads rows and challenges at any byte offset and leaves no state behind', () => {
    const backing = stream('offsets', 16 * 9 + 3);
    const chis = backing.subarray(1, 1 + 16 * 4);
    const rows = backing.subarray(3 + 16 * 4, 3 + 16 * 8);
    const expected = hex(innerProductRef(chis, rows, 4));
    expect(hex(gfToBytes(gfInnerProduct(chis, rows, 4)))).toBe(expected);
    // A second call sees the same answer: the shared scratch was wiped.
    expect(hex(gfToBytes(gfInnerProduct(chis, rows, 4)))).toBe(expected);
    expect(() => gfInnerProduct(chis, rows, 5)).toThrow(RangeError);
    expect(() => gfInnerProduct(chis, rows, 2.5)).toThrow(RangeError);
    expect(() => gfInnerProduct(chis, rows, -1)).toThrow(RangeError);
    expect(hex(gfToBytes(gfInnerProduct(chis, rows, 4)))).toBe(expected);
  });

  it('gfSelectSum', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer(), (n, seed) => {
        const chis = stream(`chis${seed}`, 16 * n);
        const bits = stream(`bits${seed}`, Math.ceil(n / 8));
        expect(hex(gfToBytes(gfSelectSum(chis, bits, n)))).toBe(hex(selectSumRef(chis, bits, n)));
      }),
      { numRuns: 100 },
    );
    expect(() => gfSelectSum(new Uint8Array(32), new Uint8Array(1), 9)).toThrow(RangeError);
  });

  it('known answers at the extension size (640 rows)', () => {
    const chis = stream('chi', 640 * 16);
    const rows = stream('rows', 640 * 16);
    const bits = stream('bits', 80);
    expect(hex(gfToBytes(gfInnerProduct(chis, rows, 640)))).toBe(
      '3ee7dac254aaa808a3e48665fe9bfa46',
    );
    expect(hex(gfToBytes(gfSelectSum(chis, bits, 640)))).toBe('46d74e839788e95dba8296e06bc0adcb');
    expect(hex(gfToBytes(gfMul(gfFromBytes(stream('a', 16)), gfFromBytes(stream('b', 16)))))).toBe(
      'c744e8d16668ddbd38458090e068135b',
    );
    expect(hex(innerProductRef(chis, rows, 640))).toBe('3ee7dac254aaa808a3e48665fe9bfa46');
  });
});

// ---- hashing ----

describe('hash primitives against noble SHA-2 and hash_to_field', () => {
  it('encodeFields / writeFields frame every field with its 32-bit length', () => {
    fc.assert(
      fc.property(fields, fc.integer({ min: 0, max: 7 }), (fs, offset) => {
        expect(hex(encodeFields(fs))).toBe(hex(fieldsRef(fs)));
        expect(encodedFieldsLength(fs)).toBe(fieldsRef(fs).length);
        const out = new Uint8Array(offset + encodedFieldsLength(fs) + 2).fill(0xee);
        expect(writeFields(out, offset, fs)).toBe(offset + encodedFieldsLength(fs));
        expect(hex(out.subarray(offset, offset + encodedFieldsLength(fs)))).toBe(
          hex(fieldsRef(fs)),
        );
        expect([...out.subarray(0, offset), ...out.subarray(out.length - 2)]).toEqual(
          new Array<number>(offset + 2).fill(0xee),
        );
      }),
      { numRuns: 100 },
    );
    // A length field beyond 16 bits.
    const big = new Uint8Array(70_000);
    expect(hex(encodeFields([big]).subarray(0, 4))).toBe('00011170');
  });

  it('H: domain hashers and fastHash / fastHash512', () => {
    fc.assert(
      fc.property(fields, fc.constantFrom('kos', 'mu', 'pair', ''), (fs, tag) => {
        expect(hex(dkls23Hasher.hash(tag, ...fs))).toBe(
          hex(hRef(sha256, dkls23Hasher.prefix, tag, fs)),
        );
        expect(hex(sessionHasher.hash(tag, ...fs))).toBe(
          hex(hRef(sha256, sessionHasher.prefix, tag, fs)),
        );
        expect(hex(fastHash(tag, ...fs))).toBe(hex(hRef(sha256, dkls23Hasher.prefix, tag, fs)));
        expect(hex(fastHash512(tag, ...fs))).toBe(hex(hRef(sha512, dkls23Hasher.prefix, tag, fs)));
      }),
      { numRuns: 100 },
    );
  });

  it('H does not alter its inputs', () => {
    const f = stream('keep', 100);
    const copy = f.slice();
    dkls23Hasher.hash('t', f);
    fastHash('t', f);
    fastHashToScalar('t', f);
    expect(hex(f)).toBe(hex(copy));
  });

  it('Hq: fastHashToScalar and hashToScalars equal RFC 9380 hash_to_field', () => {
    fc.assert(
      fc.property(fields, fc.constantFrom('gadget', 'theta', 'zero-share'), (fs, tag) => {
        expect(fastHashToScalar(tag, ...fs)).toBe(hqRef(tag, fs));
        expect(dkls23Hasher.hashToScalar(Q, tag, ...fs)).toBe(hqRef(tag, fs));
      }),
      { numRuns: 100 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 0, max: 12 }), (fixed, n) => {
        const g = hashToScalars('gadget', fixed, n);
        expect(g).toHaveLength(n);
        g.forEach((v, k) =>
          expect(v).toBe(hqRef('gadget', [fixed, Uint8Array.of(0, 0, k >>> 8, k & 0xff)])),
        );
      }),
      { numRuns: 30 },
    );
  });

  it('FramedInput digests equal H over the same fields', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), (key, ctr) => {
        const input = new FramedInput('prg', [32, 4]).set(0, key).setU32(1, ctr);
        const c = Uint8Array.of(ctr >>> 24, (ctr >>> 16) & 0xff, (ctr >>> 8) & 0xff, ctr & 0xff);
        const ref256 = hRef(sha256, dkls23Hasher.prefix, 'prg', [key, c]);
        const ref512 = hRef(sha512, dkls23Hasher.prefix, 'prg', [key, c]);
        expect(hex(input.sha256())).toBe(hex(ref256));
        expect(input.sha256Hex()).toBe(hex(ref256));
        expect(hex(input.sha512())).toBe(hex(ref512));
        expect(input.sha512Hex()).toBe(hex(ref512));
      }),
      { numRuns: 50 },
    );
  });

  it('32-byte integers: writeUint256, uint256At and scalarToBytes round-trip', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.nat(7), (k, offset) => {
        const out = new Uint8Array(offset + 32);
        const view = new DataView(out.buffer);
        writeUint256(view, offset, k);
        expect(hex(out.subarray(offset))).toBe(k.toString(16).padStart(64, '0'));
        expect(uint256At(view, offset)).toBe(k);
        if (k < Q) expect(hex(scalarToBytes(k))).toBe(k.toString(16).padStart(64, '0'));
      }),
      { numRuns: 200 },
    );
    const view = new DataView(new ArrayBuffer(32));
    expect(() => writeUint256(view, 0, -1n)).toThrow(RangeError);
    expect(() => writeUint256(view, 0, 1n << 256n)).toThrow(RangeError);
    expect(() => scalarToBytes(Q)).toThrow(RangeError);
  });

  it('scalarBelowQAt agrees with the BigInt comparison, at q and around it', () => {
    const view = new DataView(new ArrayBuffer(40));
    const near = [0n, 1n, Q - 1n, Q, Q + 1n, (1n << 256n) - 1n, Q - (1n << 224n), Q + (1n << 224n)];
    for (let w = 0; w < 8; w++) near.push(Q - (1n << BigInt(32 * w)), Q + (1n << BigInt(32 * w)));
    const check = (k: bigint, offset: number): void => {
      writeUint256(view, offset, k);
      expect(scalarBelowQAt(view, offset)).toBe(k < Q);
    };
    for (const k of near) if (k < 1n << 256n) check(k, 3);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
          fc.bigInt({ min: Q - (1n << 130n), max: (1n << 256n) - 1n }),
        ),
        fc.nat(8),
        (k, offset) => check(k, offset),
      ),
      { numRuns: 300 },
    );
  });

  it('known answers (pinned from the implementation before the speed-ups)', () => {
    const sid = stream('sid', 32);
    const g = hashToScalars('gadget', sid, 512);
    expect(g[0]?.toString(16)).toBe(
      'b8ea10f53467aee56142050a721f28c690eab5cc4c2cd41a493e13b49b55fb13',
    );
    expect(g[511]?.toString(16)).toBe(
      'af84e7817edbed0fb292f0057c0c0d1aa767576bb44aee9a2cfd291766bace54',
    );
    expect(hex(sha256(concat(...g.map(scalarToBytes))))).toBe(
      '0c599c1f16581efdf6b670b12a69bd3d310837886c3b0d1ace02ddc4b2ce1904',
    );
    const tau = stream('tau', 49152);
    expect(
      fastHashToScalar('theta', sid, Uint8Array.of(0), stream('nonce', 32), tau).toString(16),
    ).toBe('3bf3976295d04642ef930e6d6f26ee3c0fb86279fa7737cde009212ac9472fea');
    expect(fastHashToScalar('zero-share', stream('seed', 32)).toString(16)).toBe(
      '8ea1090f0cf584f6e90c37670d0f679d59ba520cc6aa454873c453958c9723bb',
    );
    expect(hex(fastHash('kos', sid, stream('nonce', 32), stream('U', 10240)))).toBe(
      'ef2fd3d4ec806b78b8aef4c06cc0970f2ed5f510f07eb35416d09d89a9aa680f',
    );
    expect(hex(fastHash512('prg', stream('key', 32), new Uint8Array(0), stream('x', 5)))).toBe(
      '23846c9a657e3876ca424549332c0eda0c3e2cc0b96eb70bdf262229d0b50830' +
        '67b54aa56a6467331d0a9292d331cbf499730c4f06a06226cd078f13ec68bc4f',
    );
    expect(
      hex(dkls23Hasher.hash('pair', sid, Uint8Array.of(0, 1), Uint8Array.of(0, 2), utf8('rvole'))),
    ).toBe('cc37cfe583c79c169de8a6c0f4edc529b4e8ff39d26a10524d41173fb02deb8f');
    expect(hex(sessionHasher.hash('digest', stream('msg', 1000)))).toBe(
      '769f8daceefa3082e871c8786d89a62eeb26c4188c9ed5c58732c81e2b85f6a0',
    );
  });
});

// ---- native secret-scalar multiplication ----

describe('SecretScalar (OpenSSL) against noble', () => {
  const G = secp256k1.Point.BASE;
  const scalar = fc.bigInt({ min: 1n, max: Q - 1n });

  it('k·G and x(k·P) equal noble, across replace()', () => {
    fc.assert(
      fc.property(scalar, scalar, scalar, (k1, k2, p) => {
        const P = G.multiply(p);
        const s = new SecretScalar(k1);
        expect(hex(s.publicKey())).toBe(hex(G.multiply(k1).toBytes()));
        expect(s.publicPoint().equals(G.multiply(k1))).toBe(true);
        expect(hex(s.sharedX(P))).toBe(hex(P.multiply(k1).toBytes().subarray(1)));
        s.replace(k2);
        expect(hex(s.publicKey())).toBe(hex(G.multiply(k2).toBytes()));
        expect(hex(s.sharedX(P))).toBe(hex(P.multiply(k2).toBytes().subarray(1)));
        s.wipe();
      }),
      { numRuns: 10 },
    );
  });

  it('refuses out-of-range scalars; after wipe() it refuses to compute until replace()', () => {
    expect(() => new SecretScalar(0n)).toThrow(/INVALID_SCALAR|scalar/i);
    expect(() => new SecretScalar(Q)).toThrow(/INVALID_SCALAR|scalar/i);
    const s = new SecretScalar(5n);
    s.wipe();
    s.wipe(); // a second wipe is a no-op
    expect(() => s.publicKey()).toThrow('SecretScalar used after wipe');
    expect(() => s.publicPoint()).toThrow('SecretScalar used after wipe');
    expect(() => s.sharedX(G)).toThrow('SecretScalar used after wipe');
    expect(hex(s.replace(7n).publicKey())).toBe(hex(G.multiply(7n).toBytes()));
    s.wipe();
  });
});
