/**
 * FROST with preprocessing (RFC 9591 §5.1 "commit" done ahead of time; the FROST paper's
 * preprocessing stage): the signers exchange nonce commitments before any message exists, each
 * keeps its nonces as a **nonce set**, and a later signing needs no round of its own — each signer
 * computes its signature share at once from its nonce set, and anyone holding the public share
 * set (the platform, as RFC 9591's Coordinator) aggregates and verifies the shares.
 *
 * 1. {@link beginFrostPreprocess}: draw nonces `(d_i, e_i)` (hedged with the share, as
 *    `commit()`), broadcast `ctx ‖ D_i ‖ E_i`. `ctx` binds the sid, the share set and the
 *    signers, so a commitment made for another pool entry, key or signing set is refused.
 * 2. {@link FrostNonceCommitter.complete}: every other signer's commitments, validated (on the
 *    curve, canonical, not the identity, in the prime-order subgroup) → a {@link FrostNonceSet}:
 *    my nonces (secret) and the whole commitment list (public).
 * 3. {@link frostPooledSignatureShare}: `z_i` for one message and derivation path, under the
 *    stored list — the binding factors (§4.4) bind the message and the list, which is what
 *    makes preprocessed nonces safe against the concurrent-session attacks on two-round
 *    Schnorr. The nonces are wiped by that call: a nonce set signs once. Whoever persists
 *    nonce sets must spend them durably before the share leaves (and never restore a copy).
 * 4. {@link frostAggregate}: `R ‖ Σ z_j`, verified with the verifier a chain uses; if it does not
 *    verify, §5.4 names the signer whose share is wrong.
 *
 * The ciphersuite follows the key's curve: FROST(Ed25519, SHA-512) for Ed25519, the BIP340
 * variant for secp256k1 (no BIP341 tweak here).
 *
 * Nonces never exist twice in usable form: {@link exportFrostNonceSet} spends the set in memory
 * (the exported bytes are the one copy), and {@link frostPooledSignatureShare} spends the set it
 * is given. Whoever stores the bytes must take them out durably before importing them, and never
 * keep or restore a copy (the co-signer's store spends the row and erases the blob in the
 * transaction that records the share).
 *
 * Deviation from RFC 9591 §5.2, which has a signer deserialize the commitment list with the
 * subgroup check: the list is fully validated once, as it arrives ({@link FrostNonceCommitter.complete});
 * {@link importFrostNonceSet} and {@link frostAggregate} check encodings only
 * (`decodeValidatedPoint`, ~1 ms less per Ed25519 point). That is sound because another signer's
 * torsion component only changes hash inputs (ρ, c) of a share whose nonces are used once, which
 * reveals nothing more than any other list would; and an aggregated `R` with a torsion component
 * never passes the cofactorless RFC 8032 check `verifySignature` runs (OpenSSL: `[S]B − [k]A` is
 * torsion-free for our key). Torsion in two commitments can cancel in `R`; the signature is then
 * valid all the same. The check must stay cofactorless (noble's `verify` is cofactored).
 * @module
 */
import { ByteReader, ByteWriter, constantTimeEqual, u16be, wipe } from './bytes.js';
import { defaultRandom, type RandomSource } from './curve-suite.js';
import { parsePath, type DerivationPath } from './derivation.js';
import { MpcError, isMpcError } from './errors.js';
import {
  aggregateSignature,
  commit,
  signatureShare,
  signingPackage,
  verifySignatureShare,
  type SigningCommitment,
} from './frost-arithmetic.js';
import { frostHasher, frostSuite, sessionContext, type FrostSuite } from './frost-ciphersuite.js';
import { checkKeyShareCached, checkShareSet } from './frost-share-set.js';
import {
  derivedSigningKey,
  signingSet,
  tweakedSigningShare,
  verifySignature,
  type SignatureResult,
  type SigningCiphersuite,
} from './frost-sign.js';
import {
  encodePublicShareSet,
  publicShareSet,
  type KeyShare,
  type PublicShareSet,
} from './key-share.js';
import { assertSid } from './message.js';
import { INSPECT, inspectSummary } from './redact.js';

/** Protocol id of the preprocessing exchange (the channel's protocol, and in `ctx`). */
const frostPreprocessProtocolId = (cs: SigningCiphersuite): string => `frost-${cs}/preprocess/v1`;

const MAX_MESSAGE_LENGTH = 1 << 20;
/** "CFN1": an exported nonce set. */
const NONCE_SET_MAGIC = Uint8Array.of(0x43, 0x46, 0x4e, 0x31);
const COMMITMENT_LIST_VERSION = 1;
const CIPHERSUITE_TAG: Record<SigningCiphersuite, number> = {
  ed25519: 1,
  'secp256k1-bip340': 2,
};

function suiteOfCurve(curve: string): FrostSuite & { ciphersuite: SigningCiphersuite } {
  if (curve === 'ed25519') return frostSuite('ed25519') as ReturnType<typeof suiteOfCurve>;
  if (curve === 'secp256k1')
    return frostSuite('secp256k1-bip340') as ReturnType<typeof suiteOfCurve>;
  throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'unknown curve' });
}

/** What every commitment of one nonce set is bound to. */
function preprocessContext(
  cs: SigningCiphersuite,
  sid: Uint8Array,
  shareSet: PublicShareSet,
  signers: readonly number[],
): Uint8Array {
  return frostHasher.hash(
    'preprocess/context',
    ...sessionContext(frostPreprocessProtocolId(cs), sid),
    encodePublicShareSet(shareSet),
    Uint8Array.from(signers.flatMap((s) => [...u16be(s)])),
  );
}

/** Parameters of {@link beginFrostPreprocess}. */
export interface FrostPreprocessParams {
  /** Unique per nonce set, 16..64 bytes: it names the set when a signing spends it. */
  readonly sid: Uint8Array;
  readonly keyShare: KeyShare;
  /** The signers that will sign with this nonce set (me included), exactly. */
  readonly signers: readonly number[];
}

/** Test-only options, through `test-hooks.ts`. */
export interface FrostPreprocessTestOptions {
  readonly random?: RandomSource;
}

/** Only this module constructs the classes below (their constructors are not an API). */
const CONSTRUCT = Symbol('frost-nonce-set');

function mustBeInternal(token: symbol): void {
  if (token !== CONSTRUCT)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'use beginFrostPreprocess' });
}

type Nonces = { hiding: Uint8Array; binding: Uint8Array };

/** A committer's secrets and context, out of reach of whoever holds it. */
interface CommitterState {
  readonly suite: FrostSuite & { ciphersuite: SigningCiphersuite };
  readonly sid: Uint8Array;
  readonly index: number;
  readonly signers: readonly number[];
  readonly shareSet: PublicShareSet;
  readonly context: Uint8Array;
  readonly own: SigningCommitment;
  nonces: Nonces | undefined;
}
const committers = new WeakMap<FrostNonceCommitter, CommitterState>();

/** One signer between its broadcast and the others' (holds its fresh nonces). */
export class FrostNonceCommitter {
  /** My broadcast: `ctx ‖ D_i ‖ E_i` (public). */
  readonly message: Uint8Array;
  /** The other signers whose broadcasts {@link complete} needs. */
  readonly others: readonly number[];
  /** The protocol id of this exchange (the key's ciphersuite's), for the channel it runs on. */
  readonly protocol: string;

  /** @internal use {@link beginFrostPreprocess} */
  constructor(token: symbol, params: FrostPreprocessParams, random: RandomSource) {
    mustBeInternal(token);
    assertSid(params.sid);
    const { secret } = checkKeyShareCached(params.keyShare);
    const shareSet = publicShareSet(params.keyShare);
    const suite = suiteOfCurve(shareSet.curve);
    const index = params.keyShare.index;
    const signers = Object.freeze(signingSet(shareSet, params.signers));
    if (!signers.includes(index))
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'key share index is not a signer' });
    const sid = params.sid.slice();
    const context = preprocessContext(suite.ciphersuite, sid, shareSet, signers);
    const share = suite.curve.encodeScalar(secret);
    let g;
    try {
      g = commit(suite, index, share, random);
    } finally {
      wipe(share);
    }
    committers.set(this, {
      suite,
      sid,
      index,
      signers,
      shareSet,
      context,
      own: g.commitment,
      nonces: { hiding: g.hiding, binding: g.binding },
    });
    this.others = Object.freeze(signers.filter((j) => j !== index));
    this.protocol = frostPreprocessProtocolId(suite.ciphersuite);
    this.message = new ByteWriter()
      .raw(context)
      .raw(g.commitment.hiding.toBytes())
      .raw(g.commitment.binding.toBytes())
      .finish();
  }

  /**
   * The nonce set, from every other signer's broadcast (exactly those): each checked against my
   * `ctx` and its points fully validated (RFC 9591 DeserializeElement, subgroup included); a bad
   * one throws naming its sender. My nonces move into the result; this committer is spent either
   * way.
   */
  complete(received: ReadonlyMap<number, Uint8Array>): FrostNonceSet {
    const st = committers.get(this);
    const nonces = st?.nonces;
    if (st === undefined || nonces === undefined) throw new MpcError('ERR_MPC_NONCE_REUSE');
    st.nonces = undefined;
    let moved = false;
    try {
      const { curve } = st.suite;
      for (const from of received.keys())
        if (!this.others.includes(from))
          throw new MpcError('ERR_MPC_INVALID_PARTY', { culprit: from, detail: 'not a signer' });
      const list: SigningCommitment[] = [];
      for (const j of st.signers) {
        if (j === st.index) {
          list.push(st.own);
          continue;
        }
        const payload = received.get(j);
        if (payload === undefined)
          throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: `no commitments from ${j}` });
        const r = new ByteReader(payload, 'preprocess commitments', j);
        const ctx = r.take(32);
        const D = r.take(curve.pointLength);
        const E = r.take(curve.pointLength);
        r.end();
        if (!constantTimeEqual(ctx, st.context))
          throw new MpcError('ERR_MPC_CONTEXT_MISMATCH', { culprit: j });
        list.push({ index: j, hiding: curve.decodePoint(D, j), binding: curve.decodePoint(E, j) });
      }
      const set = new FrostNonceSet(
        CONSTRUCT,
        st.suite.ciphersuite,
        st.sid,
        st.index,
        shareSetDigest(st.shareSet),
        list,
        nonces,
      );
      moved = true;
      return set;
    } finally {
      if (!moved) wipe(nonces.hiding, nonces.binding);
    }
  }

  /** Drops the nonces (a preprocessing that will not complete). */
  wipe(): void {
    const st = committers.get(this);
    if (st?.nonces !== undefined) wipe(st.nonces.hiding, st.nonces.binding);
    if (st !== undefined) st.nonces = undefined;
  }

  toJSON(): Record<string, unknown> {
    const st = committers.get(this);
    return { index: st?.index, signers: [...(st?.signers ?? [])] };
  }

  [INSPECT](_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string): string {
    return inspectSummary('FrostNonceCommitter', this.toJSON(), options, inspect);
  }
}

/** Starts preprocessing one nonce set: send `message` to every other signer (broadcast). */
export function beginFrostPreprocess(params: FrostPreprocessParams): FrostNonceCommitter {
  return new FrostNonceCommitter(CONSTRUCT, params, defaultRandom);
}

/** Test-only: {@link beginFrostPreprocess} with injected randomness (via `test-hooks.ts`). */
export function beginFrostPreprocessForTesting(
  params: FrostPreprocessParams,
  test: FrostPreprocessTestOptions,
): FrostNonceCommitter {
  return new FrostNonceCommitter(CONSTRUCT, params, test.random ?? defaultRandom);
}

function shareSetDigest(shareSet: PublicShareSet): Uint8Array {
  return frostHasher.hash('preprocess/share-set', encodePublicShareSet(shareSet));
}

/** A nonce set's secrets and list, out of reach of whoever holds it. */
interface NonceSetState {
  readonly shareSetDigest: Uint8Array;
  readonly commitments: readonly SigningCommitment[];
  nonces: Nonces | undefined;
}
const nonceSets = new WeakMap<FrostNonceSet, NonceSetState>();

/** One signer's preprocessed nonces (secret) and the signers' commitments (public). */
export class FrostNonceSet {
  readonly ciphersuite: SigningCiphersuite;
  readonly #sid: Uint8Array;
  /** My index. */
  readonly index: number;
  /** The signers, ascending. */
  readonly signers: readonly number[];

  /** @internal built by {@link FrostNonceCommitter.complete} and {@link importFrostNonceSet} */
  constructor(
    token: symbol,
    ciphersuite: SigningCiphersuite,
    sid: Uint8Array,
    index: number,
    digest: Uint8Array,
    commitments: readonly SigningCommitment[],
    nonces: Nonces,
  ) {
    mustBeInternal(token);
    this.ciphersuite = ciphersuite;
    this.#sid = sid.slice();
    this.index = index;
    const sorted = Object.freeze([...commitments].sort((a, b) => a.index - b.index));
    this.signers = Object.freeze(sorted.map((c) => c.index));
    nonceSets.set(this, { shareSetDigest: digest.slice(), commitments: sorted, nonces });
  }

  /** The preprocessing sid: what a signing names to spend this set (a copy). */
  get sid(): Uint8Array {
    return this.#sid.slice();
  }

  toJSON(): Record<string, unknown> {
    return {
      ciphersuite: this.ciphersuite,
      index: this.index,
      signers: [...this.signers],
      spent: nonceSets.get(this)?.nonces === undefined,
    };
  }

  [INSPECT](_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string): string {
    return inspectSummary('FrostNonceSet', this.toJSON(), options, inspect);
  }
}

function stateOf(set: FrostNonceSet): NonceSetState {
  const st = nonceSets.get(set);
  if (st === undefined) throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'not a nonce set' });
  return st;
}

/** Takes the nonces out of the set (one use); undefined once taken or wiped. */
function takeNonces(set: FrostNonceSet): Nonces | undefined {
  const st = stateOf(set);
  const n = st.nonces;
  st.nonces = undefined;
  return n;
}

/**
 * Test-only (via `test-hooks.ts`): the set's commitment list and, without spending them, its
 * nonces — for tests that play a dishonest party.
 */
export function nonceSetInternalsForTesting(set: FrostNonceSet): {
  readonly commitments: readonly SigningCommitment[];
  readonly nonces: Nonces | undefined;
} {
  const st = stateOf(set);
  return { commitments: st.commitments, nonces: st.nonces };
}

/**
 * The commitment list of a nonce set, encoded (public): what the aggregator needs, and what
 * every signer of one set must report identically.
 */
export function frostCommitmentList(set: FrostNonceSet): Uint8Array {
  return encodeCommitments(set.ciphersuite, stateOf(set).commitments);
}

function encodeCommitments(cs: SigningCiphersuite, list: readonly SigningCommitment[]): Uint8Array {
  const w = new ByteWriter().u8(COMMITMENT_LIST_VERSION).u8(CIPHERSUITE_TAG[cs]).u8(list.length);
  for (const c of list) w.u16(c.index).raw(c.hiding.toBytes()).raw(c.binding.toBytes());
  return w.finish();
}

/** One signer's nonce commitments, encoded (public). */
export interface EncodedCommitment {
  readonly index: number;
  readonly hiding: Uint8Array;
  readonly binding: Uint8Array;
}

/**
 * The points of a {@link frostCommitmentList}, by signer, each in its canonical encoding:
 * what a coordinator compares across lists to catch a nonce commitment made twice (a repeating
 * random source; RFC 9591 §7.3) before the set is named. Throws `ERR_MPC_MALFORMED` for bytes
 * that are not a commitment list.
 */
export function frostCommitmentPoints(list: Uint8Array): EncodedCommitment[] {
  return decodeCommitments(list, 'commitment list').list.map((c) => ({
    index: c.index,
    hiding: c.hiding.toBytes(),
    binding: c.binding.toBytes(),
  }));
}

/**
 * The commitment list, with its points' encodings checked but not their subgroup
 * (`decodeValidatedPoint`; see the module doc for why that is sound).
 */
function decodeCommitments(
  bytes: Uint8Array,
  what: string,
): { cs: SigningCiphersuite; list: SigningCommitment[] } {
  const r = new ByteReader(bytes, what);
  if (r.u8() !== COMMITMENT_LIST_VERSION) r.fail('version');
  const tag = r.u8();
  const cs = (Object.keys(CIPHERSUITE_TAG) as SigningCiphersuite[]).find(
    (k) => CIPHERSUITE_TAG[k] === tag,
  );
  if (cs === undefined) return r.fail('ciphersuite');
  const { curve } = frostSuite(cs);
  const list: SigningCommitment[] = [];
  for (let n = r.u8(); n > 0; n--) {
    const index = r.u16();
    const hiding = curve.decodeValidatedPoint(r.take(curve.pointLength), index);
    const binding = curve.decodeValidatedPoint(r.take(curve.pointLength), index);
    if (list.length > 0 && index <= (list[list.length - 1] as SigningCommitment).index)
      r.fail('signers not ascending');
    list.push({ index, hiding, binding });
  }
  r.end();
  return { cs, list };
}

/**
 * A nonce set as bytes, holding the nonces (secret): seal them, take them out durably to sign
 * once, wipe them. The set in memory is spent by its export: the bytes are the one copy.
 */
export function exportFrostNonceSet(set: FrostNonceSet): Uint8Array {
  const st = stateOf(set);
  const nonces = takeNonces(set);
  if (nonces === undefined) throw new MpcError('ERR_MPC_NONCE_REUSE');
  try {
    return new ByteWriter()
      .raw(NONCE_SET_MAGIC)
      .bytes(set.sid)
      .u16(set.index)
      .raw(st.shareSetDigest)
      .bytes(encodeCommitments(set.ciphersuite, st.commitments))
      .raw(nonces.hiding)
      .raw(nonces.binding)
      .finish();
  } finally {
    wipe(nonces.hiding, nonces.binding);
  }
}

/**
 * The public part of {@link exportFrostNonceSet}'s bytes, read up to the nonces: the sid, my
 * index, the share set's digest and the commitment list.
 */
function readNonceSetHead(r: ByteReader): {
  sid: Uint8Array;
  index: number;
  digest: Uint8Array;
  cs: SigningCiphersuite;
  list: SigningCommitment[];
} {
  if (!constantTimeEqual(r.take(4), NONCE_SET_MAGIC)) r.fail('magic');
  const sid = r.bytes(64);
  assertSid(sid);
  const index = r.u16();
  const digest = r.take(32);
  const { cs, list } = decodeCommitments(r.bytes(4096), 'nonce set commitments');
  return { sid, index, digest, cs, list };
}

/** Parses {@link exportFrostNonceSet}'s bytes (points as `decodeCommitments` says; the nonces must match my commitments). */
export function importFrostNonceSet(bytes: Uint8Array): FrostNonceSet {
  const r = new ByteReader(bytes, 'nonce set');
  const { sid, index, digest, cs, list } = readNonceSetHead(r);
  const { curve } = frostSuite(cs);
  const hiding = new Uint8Array(32);
  const binding = new Uint8Array(32);
  let kept = false;
  try {
    hiding.set(r.take(32));
    binding.set(r.take(32));
    r.end();
    const own = list.find((c) => c.index === index);
    // The nonces must be those of my commitments: a set whose bytes were mixed up cannot sign.
    const matches =
      own !== undefined &&
      own.hiding.equals(curve.G.multiply(curve.decodeScalar(hiding))) &&
      own.binding.equals(curve.G.multiply(curve.decodeScalar(binding)));
    if (!matches)
      throw new MpcError('ERR_MPC_MALFORMED', { detail: 'nonce set: nonces do not match' });
    const set = new FrostNonceSet(CONSTRUCT, cs, sid, index, digest, list, { hiding, binding });
    kept = true;
    return set;
  } finally {
    if (!kept) wipe(hiding, binding);
  }
}

/**
 * The commitment list of {@link exportFrostNonceSet}'s bytes, as {@link frostCommitmentList} of
 * the imported set would give it, without reading the nonces: the public part a party reports
 * again for a set it pooled before a crash. Checks what {@link importFrostNonceSet} checks but
 * the nonces, whose length alone is checked: so neither is my own entry of the list checked
 * against them (import's check, which only bytes from another writer than
 * {@link exportFrostNonceSet} could fail). A set whose list does not name my index is refused.
 * Spends nothing. Throws what import throws for such bytes: `ERR_MPC_MALFORMED`, or
 * `ERR_MPC_INVALID_POINT` / `ERR_MPC_INVALID_PARAMS` for a list that does not decode.
 */
export function frostNonceSetCommitmentList(bytes: Uint8Array): Uint8Array {
  const r = new ByteReader(bytes, 'nonce set');
  const { index, cs, list } = readNonceSetHead(r);
  if (!list.some((c) => c.index === index)) r.fail('my commitments are not listed');
  // The two nonces end the bytes: counted, never copied or decoded.
  if (r.remaining !== 64) r.fail('nonces');
  return encodeCommitments(cs, list);
}

/** Best-effort erasure of a nonce set's nonces (it can no longer sign). */
export function wipeFrostNonceSet(set: FrostNonceSet): void {
  const n = takeNonces(set);
  if (n !== undefined) wipe(n.hiding, n.binding);
}

/** Parameters of {@link frostPooledSignatureShare}. */
export interface FrostPooledShareParams {
  /** Spent by this call (its nonces wiped), whatever the outcome. */
  readonly nonceSet: FrostNonceSet;
  /** The key share the nonce set was made with. */
  readonly keyShare: KeyShare;
  readonly message: Uint8Array;
  /** Non-hardened derivation path from the root key; omitted = the root key itself. */
  readonly path?: DerivationPath;
}

/**
 * My signature share `z_i` of `message` under the key derived along `path`, with the nonce set's
 * nonces and commitment list. The nonces are wiped first thing: this never runs twice on one set.
 */
export function frostPooledSignatureShare(params: FrostPooledShareParams): Uint8Array {
  const { nonceSet, keyShare, message } = params;
  const nonces = takeNonces(nonceSet);
  if (nonces === undefined) throw new MpcError('ERR_MPC_NONCE_REUSE');
  const { commitments, shareSetDigest: digest } = stateOf(nonceSet);
  try {
    if (!(message instanceof Uint8Array) || message.length > MAX_MESSAGE_LENGTH)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'message' });
    const shareSet = publicShareSet(keyShare);
    const suite = suiteOfCurve(shareSet.curve);
    if (
      suite.ciphersuite !== nonceSet.ciphersuite ||
      keyShare.index !== nonceSet.index ||
      !constantTimeEqual(shareSetDigest(shareSet), digest)
    )
      throw new MpcError('ERR_MPC_INVALID_PARAMS', {
        detail: 'the nonce set was made with another key share',
      });
    // The signers as stored, checked again against the share set (an imported set's list).
    if (!signingSet(shareSet, nonceSet.signers).includes(nonceSet.index))
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'I am not a signer of the set' });
    const path = params.path === undefined ? [] : parsePath(params.path);
    const key = derivedSigningKey(suite, shareSet, nonceSet.signers, path);
    const secret = tweakedSigningShare(suite, key, keyShare);
    const pkg = signingPackage(suite, key.groupKey, commitments, message);
    // Non-constant-time BigInt decoding of secrets, as frost-sign.ts (docs/constant-time.md).
    return signatureShare(
      pkg,
      nonceSet.index,
      secret,
      suite.curve.decodeScalar(nonces.hiding),
      suite.curve.decodeScalar(nonces.binding),
    );
  } catch (e) {
    if (isMpcError(e)) throw e;
    throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'signature share', cause: e });
  } finally {
    wipe(nonces.hiding, nonces.binding);
  }
}

/** What {@link frostAggregator} prepares from (all public): everything but the shares. */
export interface FrostAggregatorParams {
  readonly shareSet: PublicShareSet;
  /** The nonce set's {@link frostCommitmentList}. */
  readonly commitments: Uint8Array;
  readonly message: Uint8Array;
  readonly path?: DerivationPath;
}

/** Parameters of {@link frostAggregate} (all public). */
export interface FrostAggregateParams extends FrostAggregatorParams {
  /** Every signer's `z_j`, by index. */
  readonly shares: ReadonlyMap<number, Uint8Array>;
}

/** A signing's aggregation, prepared before its shares exist: {@link frostAggregator}. */
export interface FrostAggregator {
  /** {@link frostAggregate} of these parameters with `shares`; may be called more than once. */
  aggregate(shares: ReadonlyMap<number, Uint8Array>): SignatureResult;
}

/**
 * The part of {@link frostAggregate} that needs no share, done now: the parameters checked, the
 * key derived along the path, the signing package (binding factors, group commitment, challenge)
 * computed. A Coordinator that knows a signing's message and nonce set before its shares come
 * prepares it ahead, and only sums and verifies once they are in. Throws as frostAggregate does
 * for bad parameters.
 */
export function frostAggregator(params: FrostAggregatorParams): FrostAggregator {
  const { message } = params;
  checkShareSet(params.shareSet, 'ERR_MPC_INVALID_PARAMS');
  const shareSet = publicShareSet(params.shareSet);
  const suite = suiteOfCurve(shareSet.curve);
  const { cs, list } = decodeCommitments(params.commitments, 'commitment list');
  if (cs !== suite.ciphersuite)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'commitments of another curve' });
  const signers = signingSet(
    shareSet,
    list.map((c) => c.index),
  );
  if (!(message instanceof Uint8Array) || message.length > MAX_MESSAGE_LENGTH)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'message' });
  // Copied: the caller's buffer may change before the shares come.
  const signed = Uint8Array.from(message);
  const path = params.path === undefined ? [] : parsePath(params.path);
  const key = derivedSigningKey(suite, shareSet, signers, path);
  let pkg: ReturnType<typeof signingPackage>;
  try {
    pkg = signingPackage(suite, key.groupKey, list, signed);
  } catch (e) {
    throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'signing package', cause: e });
  }
  return {
    aggregate(shares) {
      if (shares.size !== signers.length || signers.some((j) => !shares.has(j)))
        throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'one share per signer' });
      const z = new Map<number, bigint>();
      for (const j of signers)
        z.set(j, suite.curve.decodeScalar(shares.get(j) as Uint8Array, j, true));
      const signature = aggregateSignature(pkg, [...z.values()]);
      if (verifySignature(suite.ciphersuite, suite.frost, signature, signed, key.verifyKey))
        return { signature, publicKey: key.verifyKey.slice() };
      const culprit = signers.find(
        (j) => !verifySignatureShare(pkg, j, key.verifyingShares.get(j)!, z.get(j) as bigint),
      );
      if (culprit !== undefined) throw new MpcError('ERR_MPC_INVALID_SIGNATURE_SHARE', { culprit });
      throw new MpcError('ERR_MPC_SIGNATURE_INVALID');
    },
  };
}

/**
 * RFC 9591 §5.3: the signature from every signer's share, verified under the derived key with
 * the verifier a chain uses (Ed25519: RFC 8032 by OpenSSL; BIP340). If it does not verify, §5.4
 * checks each share: `ERR_MPC_INVALID_SIGNATURE_SHARE` names the first bad signer.
 */
export function frostAggregate(params: FrostAggregateParams): SignatureResult {
  return frostAggregator(params).aggregate(params.shares);
}
