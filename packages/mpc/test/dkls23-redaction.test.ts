// DKLs23 key shares and presignatures never show their secrets in util.inspect or
// JSON.stringify (CONVENTIONS.md, "Secrets"; the same rule as redaction.test.ts for FROST).
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  exportDkls23KeyShare,
  importDkls23KeyShare,
  importPresignature,
  exportPresignature,
} from '../src/index.js';
import { FramedInput } from '../src/dkls23/hashing.js';
import { SecretScalar } from '../src/dkls23/native-ecdh.js';
import { presign } from './dkls23-helpers.js';
import { dealDkls23Shares } from './dkls23-trusted-dealer.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function renderings(x: unknown): string[] {
  return [
    inspect(x),
    inspect(x, { depth: Infinity }),
    JSON.stringify(x),
    String(JSON.stringify({ x })),
  ];
}

describe('DKLs23 redaction', () => {
  it('key shares (fresh and imported) and presignatures print public parts only', async () => {
    // Trusted-dealer shares have every secret field a DKG's have (pairs, seeds, setups).
    const shares = dealDkls23Shares([1, 2], 2);
    const share = shares.get(1)!;
    const secrets = [
      hex(share.signingShare),
      ...share.pairs.flatMap((p) => [
        hex(p.zeroSeed),
        hex(p.otSender.delta),
        hex(p.otSender.keys[0]!),
        hex(p.otReceiver.keys0[0]!),
        hex(p.otReceiver.keys1[0]!),
      ]),
    ];
    const p = (await presign(shares, [1, 2])).get(1)!;
    const presigSecrets = [hex(p.phi), hex(p.u), hex(p.v)];
    for (const x of [share, importDkls23KeyShare(exportDkls23KeyShare(share))])
      for (const r of renderings(x)) {
        expect(r).toContain(hex(share.publicKey));
        for (const s of secrets) expect(r).not.toContain(s);
      }
    for (const x of [p, importPresignature(exportPresignature(p))])
      for (const r of renderings(x)) {
        expect(r).toContain(hex(p.R));
        for (const s of presigSecrets) expect(r).not.toContain(s);
      }
  });

  it('helper objects holding secrets keep them in #private fields (review L1)', () => {
    const k = 0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdefn;
    const scalar = new SecretScalar(k);
    const key = new Uint8Array(32).fill(0xa7);
    const input = new FramedInput('prg', [32, 4]).set(0, key);
    // No own enumerable property at all (TypeScript `private` ones would be listed here) …
    expect(Object.keys(scalar)).toEqual([]);
    expect(Object.keys(input)).toEqual([]);
    // … so no rendering shows a byte array, in hex or as the decimal bytes inspect prints.
    for (const r of [...renderings(scalar), ...renderings(input)]) {
      expect(r).not.toContain('Uint8Array');
      expect(r).not.toContain(hex(key));
      expect(r).not.toContain('167'); // 0xa7
    }
    scalar.wipe();
  });
});
