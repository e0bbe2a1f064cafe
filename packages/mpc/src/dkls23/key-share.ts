/**
 * A party's DKLs23 key share (issue 4, deliverable 2; specs/dkls23.md, "DKG"): the Shamir share
 * and public share set of `key-share.ts`, plus, for every other member j, the pairwise zero-share
 * seed s_{ij} and both OT setups of the ordered pairs (i → j: I am the extension sender, Alice)
 * and (j → i: I am the extension receiver, Bob).
 *
 * Format "CSKS" version 2 (version 1 is the FROST share; its importer refuses this version):
 *
 * ```
 * "CSKS" | u8 2 | u8 curve (1 = secp256k1) | u8 t | u8 n | u16 index | n × u16 parties
 *        | 32 signing share | 33 public key | 32 chain code | n × 33 verification shares
 *        | (n − 1) × pair, by ascending j:
 *          u16 j | 32 zero seed | u8 destroyed (bit 0: my sender setup, bit 1: my receiver setup)
 *          | 16 Δ | 128 × 32 k^{Δ} | 128 × 32 k^0 | 128 × 32 k^1
 * ```
 *
 * A destroyed setup (after a ban) is kept as zeros with its flag, so the co-signer can persist
 * the fact and a later presign with that party is refused until the share set is refreshed.
 * @module
 */
import { ByteReader, ByteWriter, wipe } from '../bytes.js';
import { secp256k1Suite } from '../curve-suite.js';
import { MpcError } from '../errors.js';
import {
  encodePublicShareSet,
  publicShareSet,
  redactKeyShare,
  type KeyShare,
  type PublicShareSet,
} from '../key-share.js';
import { checkKeyShareCached } from '../frost-share-set.js';
import { MAX_PARTIES } from '../party-set.js';
import { BASE_OT_COUNT, BASE_OT_KEY_LENGTH } from './base-ot.js';
import { dkls23Hasher } from './hashing.js';
import type { OtReceiverSetup, OtSenderSetup } from './ot-extension.js';

/** What I share with one other member of the share set. */
export interface Dkls23Pair {
  readonly party: number;
  /** s_{ij}: seed of the pairwise zero shares (secret, known to i and j). */
  readonly zeroSeed: Uint8Array;
  /** OT setup of (me → party): I am Alice. */
  readonly otSender: OtSenderSetup;
  /** OT setup of (party → me): I am Bob. */
  readonly otReceiver: OtReceiverSetup;
}

/** A DKLs23 key share. */
export interface Dkls23KeyShare extends KeyShare {
  readonly curve: 'secp256k1';
  /** One entry per other member, ascending by party. */
  readonly pairs: readonly Dkls23Pair[];
}

const MAGIC = Uint8Array.of(0x43, 0x53, 0x4b, 0x53); // "CSKS"
/** Format version of a DKLs23 key share. */
export const DKLS23_KEY_SHARE_VERSION = 2;
const SEED = 32;

/** Identifier of a share set (binds presignatures to it): H("share-set", public share set). */
export function shareSetId(p: PublicShareSet): Uint8Array {
  return dkls23Hasher.hash('share-set', encodePublicShareSet(p));
}

const isBytes = (b: unknown, length: number): boolean =>
  b instanceof Uint8Array && b.length === length;

const isKeyList = (keys: unknown): boolean =>
  Array.isArray(keys) &&
  keys.length === BASE_OT_COUNT &&
  keys.every((k) => isBytes(k, BASE_OT_KEY_LENGTH));

/** One pair's structure: parties and directions, and every secret at its exact length. */
function pairIsWellFormed(p: Dkls23Pair, index: number, party: number | undefined): boolean {
  if (typeof p !== 'object' || p === null) return false;
  const { otSender: s, otReceiver: r } = p;
  return (
    p.party === party &&
    isBytes(p.zeroSeed, SEED) &&
    typeof s === 'object' &&
    s !== null &&
    typeof r === 'object' &&
    r !== null &&
    s.sender === index &&
    s.receiver === party &&
    r.sender === party &&
    r.receiver === index &&
    typeof s.destroyed === 'boolean' &&
    typeof r.destroyed === 'boolean' &&
    isBytes(s.delta, BASE_OT_COUNT / 8) &&
    isKeyList(s.keys) &&
    isKeyList(r.keys0) &&
    isKeyList(r.keys1)
  );
}

/**
 * Checks the secret share and that the pairs match the other members, in ascending order, each
 * with both setups of the right shape (the exporter writes them as fixed-length fields, so a
 * wrong length would shift every later field).
 */
export function checkDkls23KeyShare(share: Dkls23KeyShare): bigint {
  if (share.curve !== 'secp256k1')
    throw new MpcError('ERR_MPC_KEY_SHARE', { detail: 'DKLs23 shares are secp256k1' });
  // Public part memoised per share set; x_i·G = X_i is still checked on every call.
  const { secret } = checkKeyShareCached(share);
  const others = share.parties.filter((p) => p !== share.index);
  const pairs: readonly Dkls23Pair[] = Array.isArray(share.pairs) ? share.pairs : [];
  let ok = pairs.length === others.length;
  try {
    ok &&= pairs.every((p, i) => pairIsWellFormed(p, share.index, others[i]));
  } catch {
    ok = false; // a getter or a proxy that throws: refused like any other malformed pair
  }
  if (!ok) throw new MpcError('ERR_MPC_KEY_SHARE', { detail: 'pairs' });
  return secret;
}

/** Serializes a DKLs23 key share (secret: seal before storing, wipe after use). */
export function exportDkls23KeyShare(share: Dkls23KeyShare): Uint8Array {
  checkDkls23KeyShare(share);
  const w = new ByteWriter()
    .raw(MAGIC)
    .u8(DKLS23_KEY_SHARE_VERSION)
    .u8(secp256k1Suite.wireId)
    .u8(share.threshold)
    .u8(share.parties.length)
    .u16(share.index);
  for (const i of share.parties) w.u16(i);
  w.raw(share.signingShare).raw(share.publicKey).raw(share.chainCode);
  for (const v of share.verificationShares) w.raw(v);
  for (const p of share.pairs) {
    w.u16(p.party).raw(p.zeroSeed);
    w.u8((p.otSender.destroyed ? 1 : 0) | (p.otReceiver.destroyed ? 2 : 0));
    w.raw(p.otSender.delta);
    for (const k of p.otSender.keys) w.raw(k);
    for (const k of p.otReceiver.keys0) w.raw(k);
    for (const k of p.otReceiver.keys1) w.raw(k);
  }
  return w.finish();
}

/**
 * Parses and fully validates an exported DKLs23 key share. Structure errors are
 * `ERR_MPC_MALFORMED`, content errors (share, points, pairs) `ERR_MPC_KEY_SHARE`; on any error
 * the secrets already copied out of `bytes` are wiped.
 */
export function importDkls23KeyShare(bytes: Uint8Array): Dkls23KeyShare {
  const r = new ByteReader(bytes, 'DKLs23 key share');
  const magic = r.take(4);
  if (!magic.every((b, i) => b === MAGIC[i])) r.fail('bad magic');
  const version = r.u8();
  if (version !== DKLS23_KEY_SHARE_VERSION)
    throw new MpcError('ERR_MPC_KEY_SHARE', { detail: `unsupported version ${version}` });
  if (r.u8() !== secp256k1Suite.wireId) r.fail('curve');
  const threshold = r.u8();
  const n = r.u8();
  if (n < 2 || n > MAX_PARTIES) r.fail('party count');
  const index = r.u16();
  const parties: number[] = [];
  for (let i = 0; i < n; i++) parties.push(r.u16());
  // Every secret copied out of `bytes` is listed here, so a failure anywhere below wipes them.
  const secrets: Uint8Array[] = [];
  const secret = (length: number): Uint8Array => {
    const b = r.take(length);
    secrets.push(b);
    return b;
  };
  try {
    const signingShare = secret(32);
    const publicKey = r.take(33);
    const chainCode = r.take(32);
    const verificationShares: Uint8Array[] = [];
    for (let i = 0; i < n; i++) verificationShares.push(r.take(33));
    const pairs: Dkls23Pair[] = [];
    for (let i = 0; i < n - 1; i++) {
      const party = r.u16();
      const zeroSeed = secret(SEED);
      const flags = r.u8();
      if (flags > 3) r.fail('flags');
      const delta = secret(BASE_OT_COUNT / 8);
      const take = (): Uint8Array[] =>
        Array.from({ length: BASE_OT_COUNT }, () => secret(BASE_OT_KEY_LENGTH));
      const keys = take();
      const keys0 = take();
      const keys1 = take();
      pairs.push({
        party,
        zeroSeed,
        otSender: { sender: index, receiver: party, delta, keys, destroyed: (flags & 1) !== 0 },
        otReceiver: { sender: party, receiver: index, keys0, keys1, destroyed: (flags & 2) !== 0 },
      });
    }
    r.end();
    const share: Dkls23KeyShare = {
      curve: 'secp256k1',
      threshold,
      parties,
      index,
      signingShare,
      publicKey,
      chainCode,
      verificationShares,
      pairs,
    };
    checkDkls23KeyShare(share);
    return redactKeyShare(share);
  } catch (e) {
    wipe(...secrets);
    throw e;
  }
}

/** Overwrites every secret of a key share object. */
export function wipeDkls23KeyShare(share: Dkls23KeyShare): void {
  wipe(share.signingShare);
  for (const p of share.pairs) {
    wipe(p.zeroSeed, p.otSender.delta, ...p.otSender.keys);
    wipe(...p.otReceiver.keys0, ...p.otReceiver.keys1);
  }
}

/** The public share set of a DKLs23 key share. */
export function dkls23PublicShareSet(share: Dkls23KeyShare): PublicShareSet {
  return publicShareSet(share);
}
