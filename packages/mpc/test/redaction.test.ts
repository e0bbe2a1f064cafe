// Secrets never show in util.inspect / console.log / JSON.stringify of a session, a protocol or a
// key share (CONVENTIONS.md, "Secrets"). The test knows every secret of party 1 — its polynomial
// (from the injected randomness), the shares it received, its final signing share — and looks
// for each one, in hex (both byte orders) and in decimal, in every rendering.
import { inspect } from 'node:util';
import { bytesToNumberBE, bytesToNumberLE } from '@noble/curves/utils.js';
import { describe, expect, it } from 'vitest';
import { ed25519Suite } from '../src/curve-suite.js';
import {
  encodeMessage,
  importKeyShare,
  exportKeyShare,
  type KeyShare,
  type ProtocolMessage,
  type Session,
} from '../src/index.js';
import { dkgForTesting } from '../src/test-hooks.js';
import { seededRandom, sid } from './helpers.js';

const suite = ed25519Suite;

/** Every string form in which a secret scalar could leak. */
function forms(k: bigint): string[] {
  const le = Buffer.from(suite.encodeScalar(k)).toString('hex');
  const be = Buffer.from(suite.encodeScalar(k)).reverse().toString('hex');
  const bytes = [...suite.encodeScalar(k)];
  // Also as util.inspect prints a Uint8Array or JSON an array: its bytes, comma-separated.
  return [le, be, k.toString(10), k.toString(16), bytes.join(', '), bytes.join(',')];
}

/**
 * Default renderings (console.log, loggers, JSON.stringify). `bypassCustom` adds
 * `customInspect: false`, which only #private fields withstand: true for sessions and
 * protocols; a key share is a plain data object (its fields are its API), so a caller who turns
 * custom inspection off explicitly sees its bytes.
 */
function renderings(x: unknown, bypassCustom = true): string[] {
  return [
    inspect(x),
    inspect(x, { depth: Infinity, showHidden: true }),
    ...(bypassCustom
      ? [inspect(x, { depth: Infinity, showHidden: true, customInspect: false })]
      : []),
    JSON.stringify(x) ?? '',
    String(x),
  ];
}

function expectNoSecret(x: unknown, secrets: readonly bigint[], bypassCustom = true): void {
  for (const text of renderings(x, bypassCustom))
    for (const k of secrets) for (const f of forms(k)) expect(text).not.toContain(f);
}

describe('redaction', () => {
  const parties = [1, 2, 3];
  const draws: Uint8Array[] = [];
  const recording = seededRandom('redaction/1');
  const sessions = new Map<number, Session<KeyShare>>(
    parties.map((me) => [
      me,
      dkgForTesting(
        { curve: 'ed25519', sid: sid('redaction'), parties, me, threshold: 3 },
        {
          random:
            me === 1
              ? (n) => {
                  const b = recording(n);
                  draws.push(b.slice());
                  return b;
                }
              : seededRandom(`redaction/${me}`),
        },
      ),
    ]),
  );
  // Every scalar party 1 derived from its randomness: polynomial coefficients, PoK nonce.
  const drawnScalars = () =>
    draws.filter((b) => b.length === 48).map((b) => suite.mod(bytesToNumberBE(b)));

  it('a DKG session mid-protocol shows no coefficient, received share or key share', () => {
    const p1 = sessions.get(1)!;
    const queue: ProtocolMessage[] = [];
    const received: bigint[] = [];
    for (const s of sessions.values()) queue.push(...s.start());
    const snapshots: unknown[] = [];
    let steps = 0;
    while (queue.length > 0) {
      const m = queue.shift()!;
      const targets = m.to === 'broadcast' ? parties.filter((p) => p !== m.from) : [m.to];
      for (const to of targets) {
        if (to === 1 && m.to === 1) received.push(bytesToNumberLE(m.payload));
        queue.push(...sessions.get(to)!.receive(encodeMessage(m)));
        if (to === 1 && steps++ % 2 === 0) snapshots.push(renderings(p1)); // mid-protocol views
      }
    }
    expect(p1.status).toBe('done');
    const share = p1.result();
    const secrets = [...drawnScalars(), ...received, bytesToNumberLE(share.signingShare)];
    expect(drawnScalars().length).toBeGreaterThanOrEqual(3); // t coefficients at least
    expect(received).toHaveLength(2);
    expect(snapshots.length).toBeGreaterThan(2);
    for (const views of snapshots)
      for (const text of views as string[])
        for (const k of secrets) for (const f of forms(k)) expect(text).not.toContain(f);
    expectNoSecret(p1, secrets);
    // The summary still says what the session is.
    expect(inspect(p1)).toContain('frost-ed25519/dkg/v1');
    expect(JSON.parse(JSON.stringify(p1))).toMatchObject({ status: 'done', me: 1 });
  });

  it('a key share (from a session, and from import) shows its public fields only', () => {
    const share = sessions.get(2)!.result();
    const secret = bytesToNumberLE(share.signingShare);
    for (const k of [share, importKeyShare(exportKeyShare(share))]) {
      expectNoSecret(k, [secret], false);
      const json = JSON.parse(JSON.stringify(k)) as Record<string, unknown>;
      expect(json.signingShare).toBe('[redacted]');
      expect(json.publicKey).toBe(Buffer.from(share.publicKey).toString('hex'));
      expect(inspect(k)).toContain('[redacted]');
    }
  });
});
