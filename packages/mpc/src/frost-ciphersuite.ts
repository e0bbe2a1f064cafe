/**
 * FROST ciphersuites (RFC 9591 §6) as used by Countersign, bound to their `@noble/curves`
 * implementations, plus the domain hasher and protocol ids of the FROST protocols.
 *
 * | signing ciphersuite  | RFC 9591 / noble                               | signature            |
 * |----------------------|------------------------------------------------|----------------------|
 * | `ed25519`            | §6.1 FROST(Ed25519, SHA-512), `ed25519_FROST`   | RFC 8032, 64 bytes   |
 * | `secp256k1-bip340`   | BIP340 variant, `schnorr_FROST` (x-only keys)   | BIP340, 64 bytes     |
 * | `secp256k1-rfc9591`  | §6.5 FROST(secp256k1, SHA-256), `secp256k1_FROST` | R ‖ z, 65 bytes    |
 *
 * The signing arithmetic is `frost-arithmetic.ts`: noble's formulas and parameters for these
 * suites, byte for byte (RFC vectors and a differential test against these noble objects pin
 * it), on points validated once rather than re-decoded per call; from noble itself only
 * `verify` (RFC 9591 secp256k1 signatures) is used. Key generation, reshare and refresh are
 * this package's own, because noble's DKG helpers do not bind their proofs of knowledge to a
 * session id, do not name the party at fault, and keep in-memory state that cannot be
 * persisted between rounds. (`schnorr_FROST.DKG` also applies the BIP341 TapTweak to its
 * output, which would break BIP32 derivation from the root key.)
 * @module
 */
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { schnorr_FROST, secp256k1_FROST } from '@noble/curves/secp256k1.js';
import type { FROST } from '@noble/curves/abstract/frost.js';
import { curveSuite, type CurveName, type CurveSuite } from './curve-suite.js';
import { MpcError } from './errors.js';
import { domainHasher, label, type DomainHasher } from './hash.js';

/** Signing ciphersuites. */
export type FrostCiphersuite = 'ed25519' | 'secp256k1-bip340' | 'secp256k1-rfc9591';

/** Hasher of the FROST protocols of this package (commitments, proofs, chain code, context). */
export const frostHasher: DomainHasher = domainHasher('frost');

/** A signing ciphersuite: its curve and noble's RFC 9591 implementation. */
export interface FrostSuite {
  readonly ciphersuite: FrostCiphersuite;
  readonly curve: CurveSuite;
  readonly frost: FROST;
}

const SUITES: Record<FrostCiphersuite, FrostSuite> = {
  ed25519: { ciphersuite: 'ed25519', curve: curveSuite('ed25519'), frost: ed25519_FROST },
  'secp256k1-bip340': {
    ciphersuite: 'secp256k1-bip340',
    curve: curveSuite('secp256k1'),
    frost: schnorr_FROST,
  },
  'secp256k1-rfc9591': {
    ciphersuite: 'secp256k1-rfc9591',
    curve: curveSuite('secp256k1'),
    frost: secp256k1_FROST,
  },
};

/** The signing ciphersuite by name. */
export function frostSuite(name: FrostCiphersuite): FrostSuite {
  const s = (SUITES as Partial<Record<string, FrostSuite>>)[name];
  if (s === undefined)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'unknown ciphersuite' });
  return s;
}

/** Protocol ids. Key generation is per curve, signing per ciphersuite. */
export const frostProtocolIds = {
  dkg: (curve: CurveName) => `frost-${curve}/dkg/v1`,
  reshare: (curve: CurveName) => `frost-${curve}/reshare/v1`,
  refresh: (curve: CurveName) => `frost-${curve}/refresh/v1`,
  sign: (cs: FrostCiphersuite) => `frost-${cs}/sign/v1`,
} as const;

/** Hash context of a session: protocol id and sid, first fields of every FROST hash. */
export function sessionContext(protocol: string, sid: Uint8Array): Uint8Array[] {
  return [label(protocol), sid];
}
