// RFC 9591 Appendix E test vectors, reproduced byte-exact through the public signing session
// (deterministic inputs: the vector's key shares and nonce randomness). Provenance: vectors/README.md.
import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE } from '@noble/curves/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { type FrostCiphersuite, type KeyShare, type ProtocolMessage } from '../src/index.js';
import { signForTesting } from '../src/test-hooks.js';
import { runSessions, sid } from './helpers.js';

interface Vector {
  config: { MIN_PARTICIPANTS: string; MAX_PARTICIPANTS: string; name: string };
  inputs: {
    participant_list: number[];
    group_public_key: string;
    message: string;
    participant_shares: { identifier: number; participant_share: string }[];
  };
  round_one_outputs: {
    outputs: {
      identifier: number;
      hiding_nonce_randomness: string;
      binding_nonce_randomness: string;
      hiding_nonce_commitment: string;
      binding_nonce_commitment: string;
    }[];
  };
  round_two_outputs: { outputs: { identifier: number; sig_share: string }[] };
  final_output: { sig: string };
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const load = (f: string): Vector =>
  JSON.parse(readFileSync(new URL(`./vectors/${f}`, import.meta.url), 'utf8')) as Vector;

const CASES: { file: string; curve: 'ed25519' | 'secp256k1'; ciphersuite: FrostCiphersuite }[] = [
  { file: 'rfc9591-frost-ed25519-sha512.json', curve: 'ed25519', ciphersuite: 'ed25519' },
  {
    file: 'rfc9591-frost-secp256k1-sha256.json',
    curve: 'secp256k1',
    ciphersuite: 'secp256k1-rfc9591',
  },
];
const EXPECTED_VECTORS = 2;
const EXPECTED_CHECKS = 2 * (2 * 2 + 2 + 2); // per vector: 2 signers × 2 commitments, 2 shares, 2 final sigs
let vectorsRun = 0;
let checksRun = 0;

function publicShare(curve: 'ed25519' | 'secp256k1', share: string): Uint8Array {
  return curve === 'ed25519'
    ? ed25519.Point.BASE.multiply(bytesToNumberLE(hex(share))).toBytes()
    : secp256k1.Point.BASE.multiply(bytesToNumberBE(hex(share))).toBytes();
}

describe('RFC 9591 Appendix E vectors', () => {
  for (const c of CASES) {
    it(`${c.file} reproduces commitments, signature shares and the signature`, () => {
      const v = load(c.file);
      const t = Number(v.config.MIN_PARTICIPANTS);
      const parties = v.inputs.participant_shares.map((p) => p.identifier);
      expect(parties.length).toBe(Number(v.config.MAX_PARTICIPANTS));
      const verificationShares = v.inputs.participant_shares.map((p) =>
        publicShare(c.curve, p.participant_share),
      );
      const signers = v.inputs.participant_list;
      const sessions = new Map(
        signers.map((me) => {
          const r1 = v.round_one_outputs.outputs.find((o) => o.identifier === me)!;
          const randomness = [hex(r1.hiding_nonce_randomness), hex(r1.binding_nonce_randomness)];
          const keyShare: KeyShare = {
            curve: c.curve,
            threshold: t,
            parties,
            index: me,
            signingShare: hex(
              v.inputs.participant_shares.find((p) => p.identifier === me)!.participant_share,
            ),
            publicKey: hex(v.inputs.group_public_key),
            chainCode: new Uint8Array(32),
            verificationShares,
          };
          // The test-only entry point: injected nonce randomness and, for secp256k1, the RFC
          // ciphersuite that the public sign() refuses for production keys.
          const session = signForTesting(
            {
              sid: sid(`rfc9591 ${c.curve}`),
              keyShare,
              signers,
              message: hex(v.inputs.message),
              ciphersuite: c.ciphersuite,
            },
            {
              allowTestVectorCiphersuite: true,
              random: (n) => {
                const next = randomness.shift();
                if (next === undefined || next.length !== n)
                  throw new Error('unexpected randomness request');
                return next.slice();
              },
            },
          );
          return [me, session] as const;
        }),
      );
      const sent: ProtocolMessage[] = [];
      const out = runSessions(sessions, (m) => {
        sent.push(m);
        return m;
      });
      expect(out.errors.size).toBe(0);
      const P = c.curve === 'ed25519' ? 32 : 33;
      for (const o of v.round_one_outputs.outputs) {
        const m = sent.find((s) => s.round === 1 && s.from === o.identifier)!;
        expect(toHex(m.payload.subarray(32, 32 + P))).toBe(o.hiding_nonce_commitment);
        expect(toHex(m.payload.subarray(32 + P))).toBe(o.binding_nonce_commitment);
        checksRun += 2;
      }
      // Round-2 payload = transcript echo (one 32-byte digest per signer) ‖ signature share.
      for (const o of v.round_two_outputs.outputs) {
        const m = sent.find((s) => s.round === 2 && s.from === o.identifier)!;
        expect(toHex(m.payload.subarray(signers.length * 32))).toBe(o.sig_share);
        checksRun += 1;
      }
      for (const me of signers) {
        expect(toHex(out.results.get(me)!.signature)).toBe(v.final_output.sig);
        checksRun += 1;
      }
      vectorsRun += 1;
    });
  }
  afterAll(() => {
    // A silently skipped vector fails the run.
    expect(vectorsRun).toBe(EXPECTED_VECTORS);
    expect(checksRun).toBe(EXPECTED_CHECKS);
  });
});
