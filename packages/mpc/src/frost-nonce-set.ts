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
export const frostPreprocessProtocolId = (cs: SigningCiphersuite): string =>
  `frost-${cs}/preprocess/v1`;

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

/** One signer between its broadcast and the others' (holds its fresh nonces). */
export class FrostNonceCommitter {
  readonly #suite: FrostSuite & { ciphersuite: SigningCiphersuite };
  readonly #sid: Uint8Array;
  readonly #index: number;
  readonly #signers: readonly number[];
  readonly #shareSet: PublicShareSet;
  readonly #context: Uint8Array;
  readonly #own: SigningCommitment;
  #nonces: { hiding: Uint8Array; binding: Uint8Array } | undefined;
  /** My broadcast: `ctx ‖ D_i ‖ E_i` (public). */
  readonly message: Uint8Array;

  /** @internal use {@link beginFrostPreprocess} */
  constructor(params: FrostPreprocessParams, random: RandomSource) {
    assertSid(params.sid);
    const { checked, secret } = checkKeyShareCached(params.keyShare);
    void checked;
    const shareSet = publicShareSet(params.keyShare);
    this.#suite = suiteOfCurve(shareSet.curve);
    this.#sid = params.sid.slice();
    this.#index = params.keyShare.index;
    this.#shareSet = shareSet;
    this.#signers = signingSet(shareSet, params.signers);
    if (!this.#signers.includes(this.#index))
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'key share index is not a signer' });
    this.#context = preprocessContext(this.#suite.ciphersuite, this.#sid, shareSet, this.#signers);
    const share = this.#suite.curve.encodeScalar(secret);
    try {
      const g = commit(this.#suite, this.#index, share, random);
      this.#nonces = { hiding: g.hiding, binding: g.binding };
      this.#own = g.commitment;
    } finally {
      wipe(share);
    }
    this.message = new ByteWriter()
      .raw(this.#context)
      .raw(this.#own.hiding.toBytes())
      .raw(this.#own.binding.toBytes())
      .finish();
  }

  /** The other signers whose broadcasts {@link complete} needs. */
  get others(): readonly number[] {
    return this.#signers.filter((s) => s !== this.#index);
  }

  /**
   * The nonce set, from every other signer's broadcast (exactly those): each checked against my
   * `ctx` and its points validated; a bad one throws naming its sender. My nonces move into the
   * result; this committer is spent either way.
   */
  complete(received: ReadonlyMap<number, Uint8Array>): FrostNonceSet {
    const nonces = this.#nonces;
    if (nonces === undefined) throw new MpcError('ERR_MPC_NONCE_REUSE');
    this.#nonces = undefined;
    try {
      const { curve } = this.#suite;
      const others = this.others;
      for (const from of received.keys())
        if (!others.includes(from))
          throw new MpcError('ERR_MPC_INVALID_PARTY', { culprit: from, detail: 'not a signer' });
      const list: SigningCommitment[] = [];
      for (const j of this.#signers) {
        if (j === this.#index) {
          list.push(this.#own);
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
        if (!constantTimeEqual(ctx, this.#context))
          throw new MpcError('ERR_MPC_CONTEXT_MISMATCH', { culprit: j });
        list.push({ index: j, hiding: curve.decodePoint(D, j), binding: curve.decodePoint(E, j) });
      }
      return new FrostNonceSet(
        this.#suite.ciphersuite,
        this.#sid,
        this.#index,
        shareSetDigest(this.#shareSet),
        list,
        { hiding: nonces.hiding.slice(), binding: nonces.binding.slice() },
      );
    } finally {
      wipe(nonces.hiding, nonces.binding);
    }
  }

  /** Drops the nonces (a preprocessing that will not complete). */
  wipe(): void {
    if (this.#nonces !== undefined) wipe(this.#nonces.hiding, this.#nonces.binding);
    this.#nonces = undefined;
  }

  toJSON(): Record<string, unknown> {
    return { index: this.#index, signers: [...this.#signers] };
  }

  [INSPECT](_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string): string {
    return inspectSummary('FrostNonceCommitter', this.toJSON(), options, inspect);
  }
}

/** Starts preprocessing one nonce set: send `message` to every other signer (broadcast). */
export function beginFrostPreprocess(params: FrostPreprocessParams): FrostNonceCommitter {
  return new FrostNonceCommitter(params, defaultRandom);
}

/** Test-only: {@link beginFrostPreprocess} with injected randomness. */
export function beginFrostPreprocessForTesting(
  params: FrostPreprocessParams,
  test: FrostPreprocessTestOptions,
): FrostNonceCommitter {
  return new FrostNonceCommitter(params, test.random ?? defaultRandom);
}

function shareSetDigest(shareSet: PublicShareSet): Uint8Array {
  return frostHasher.hash('preprocess/share-set', encodePublicShareSet(shareSet));
}

/** One signer's preprocessed nonces (secret) and the signers' commitments (public). */
export class FrostNonceSet {
  readonly ciphersuite: SigningCiphersuite;
  /** The preprocessing sid: what a signing names to spend this set. */
  readonly sid: Uint8Array;
  /** My index. */
  readonly index: number;
  /** The signers, ascending. */
  readonly signers: readonly number[];
  readonly #shareSetDigest: Uint8Array;
  readonly #commitments: readonly SigningCommitment[];
  #nonces: { hiding: Uint8Array; binding: Uint8Array } | undefined;

  /** @internal */
  constructor(
    ciphersuite: SigningCiphersuite,
    sid: Uint8Array,
    index: number,
    digest: Uint8Array,
    commitments: readonly SigningCommitment[],
    nonces: { hiding: Uint8Array; binding: Uint8Array },
  ) {
    this.ciphersuite = ciphersuite;
    this.sid = sid.slice();
    this.index = index;
    this.#shareSetDigest = digest.slice();
    this.#commitments = [...commitments].sort((a, b) => a.index - b.index);
    this.signers = this.#commitments.map((c) => c.index);
    this.#nonces = nonces;
  }

  /** @internal */
  static commitmentsOf(set: FrostNonceSet): readonly SigningCommitment[] {
    return set.#commitments;
  }

  /** @internal */
  static digestOf(set: FrostNonceSet): Uint8Array {
    return set.#shareSetDigest;
  }

  /** @internal Takes the nonces out (one use); undefined once taken or wiped. */
  static takeNonces(set: FrostNonceSet): { hiding: Uint8Array; binding: Uint8Array } | undefined {
    const n = set.#nonces;
    set.#nonces = undefined;
    return n;
  }

  /** @internal */
  static peekNonces(set: FrostNonceSet): { hiding: Uint8Array; binding: Uint8Array } | undefined {
    return set.#nonces;
  }

  toJSON(): Record<string, unknown> {
    return {
      ciphersuite: this.ciphersuite,
      index: this.index,
      signers: [...this.signers],
      spent: this.#nonces === undefined,
    };
  }

  [INSPECT](_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string): string {
    return inspectSummary('FrostNonceSet', this.toJSON(), options, inspect);
  }
}

/**
 * The commitment list of a nonce set, encoded (public): what the aggregator needs, and what
 * every signer of one set must report identically.
 */
export function frostCommitmentList(set: FrostNonceSet): Uint8Array {
  return encodeCommitments(set.ciphersuite, FrostNonceSet.commitmentsOf(set));
}

function encodeCommitments(cs: SigningCiphersuite, list: readonly SigningCommitment[]): Uint8Array {
  const w = new ByteWriter().u8(COMMITMENT_LIST_VERSION).u8(CIPHERSUITE_TAG[cs]).u8(list.length);
  for (const c of list) w.u16(c.index).raw(c.hiding.toBytes()).raw(c.binding.toBytes());
  return w.finish();
}

/**
 * The commitment list, with its points' encodings checked but not their subgroup
 * (`decodeValidatedPoint`): every signer validated them fully as they arrived
 * ({@link FrostNonceCommitter.complete}); a nonce set reaches {@link importFrostNonceSet} sealed by
 * its store; and {@link frostAggregate} returns only a signature that passes the cofactorless
 * verification, which any torsion component in the group commitment fails.
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

/** A nonce set as bytes: holds the nonces (secret) — seal it, spend it once, wipe it. */
export function exportFrostNonceSet(set: FrostNonceSet): Uint8Array {
  const nonces = FrostNonceSet.peekNonces(set);
  if (nonces === undefined) throw new MpcError('ERR_MPC_NONCE_REUSE');
  return new ByteWriter()
    .raw(NONCE_SET_MAGIC)
    .bytes(set.sid)
    .u16(set.index)
    .raw(FrostNonceSet.digestOf(set))
    .bytes(frostCommitmentList(set))
    .raw(nonces.hiding)
    .raw(nonces.binding)
    .finish();
}

/** Parses {@link exportFrostNonceSet}'s bytes (points as `decodeCommitments` says; the nonces must match my commitments). */
export function importFrostNonceSet(bytes: Uint8Array): FrostNonceSet {
  const r = new ByteReader(bytes, 'nonce set');
  if (!constantTimeEqual(r.take(4), NONCE_SET_MAGIC)) r.fail('magic');
  const sid = r.bytes(64);
  assertSid(sid);
  const index = r.u16();
  const digest = r.take(32);
  const { cs, list } = decodeCommitments(r.bytes(4096), 'nonce set commitments');
  const { curve } = frostSuite(cs);
  const hiding = r.take(32).slice();
  const binding = r.take(32).slice();
  r.end();
  const own = list.find((c) => c.index === index);
  // The nonces must be those of my commitments: a set whose bytes were mixed up cannot sign.
  const d = curve.decodeScalar(hiding);
  const e = curve.decodeScalar(binding);
  if (
    own === undefined ||
    !own.hiding.equals(curve.G.multiply(d)) ||
    !own.binding.equals(curve.G.multiply(e))
  ) {
    wipe(hiding, binding);
    throw new MpcError('ERR_MPC_MALFORMED', { detail: 'nonce set: nonces do not match' });
  }
  return new FrostNonceSet(cs, sid, index, digest, list, { hiding, binding });
}

/** Best-effort erasure of a nonce set's nonces (it can no longer sign). */
export function wipeFrostNonceSet(set: FrostNonceSet): void {
  const n = FrostNonceSet.takeNonces(set);
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
  const nonces = FrostNonceSet.takeNonces(nonceSet);
  if (nonces === undefined) throw new MpcError('ERR_MPC_NONCE_REUSE');
  try {
    if (!(message instanceof Uint8Array) || message.length > MAX_MESSAGE_LENGTH)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'message' });
    const shareSet = publicShareSet(keyShare);
    const suite = suiteOfCurve(shareSet.curve);
    if (
      suite.ciphersuite !== nonceSet.ciphersuite ||
      keyShare.index !== nonceSet.index ||
      !constantTimeEqual(shareSetDigest(shareSet), FrostNonceSet.digestOf(nonceSet))
    )
      throw new MpcError('ERR_MPC_INVALID_PARAMS', {
        detail: 'the nonce set was made with another key share',
      });
    const path = params.path === undefined ? [] : parsePath(params.path);
    const key = derivedSigningKey(suite, shareSet, nonceSet.signers, path);
    const secret = tweakedSigningShare(suite, key, keyShare);
    const pkg = signingPackage(suite, key.groupKey, FrostNonceSet.commitmentsOf(nonceSet), message);
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

/** Parameters of {@link frostAggregate} (all public). */
export interface FrostAggregateParams {
  readonly shareSet: PublicShareSet;
  /** The nonce set's {@link frostCommitmentList}. */
  readonly commitments: Uint8Array;
  readonly message: Uint8Array;
  readonly path?: DerivationPath;
  /** Every signer's `z_j`, by index. */
  readonly shares: ReadonlyMap<number, Uint8Array>;
}

/**
 * RFC 9591 §5.3: the signature from every signer's share, verified under the derived key with
 * the verifier a chain uses (Ed25519: RFC 8032 by OpenSSL; BIP340). If it does not verify, §5.4
 * checks each share: `ERR_MPC_INVALID_SIGNATURE_SHARE` names the first bad signer.
 */
export function frostAggregate(params: FrostAggregateParams): SignatureResult {
  const { message, shares } = params;
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
  if (shares.size !== signers.length || signers.some((j) => !shares.has(j)))
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'one share per signer' });
  const z = new Map<number, bigint>();
  for (const j of signers) z.set(j, suite.curve.decodeScalar(shares.get(j) as Uint8Array, j, true));
  const path = params.path === undefined ? [] : parsePath(params.path);
  const key = derivedSigningKey(suite, shareSet, signers, path);
  let pkg;
  try {
    pkg = signingPackage(suite, key.groupKey, list, message);
  } catch (e) {
    throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'signing package', cause: e });
  }
  const signature = aggregateSignature(pkg, [...z.values()]);
  if (verifySignature(suite.ciphersuite, suite.frost, signature, message, key.verifyKey))
    return { signature, publicKey: key.verifyKey.slice() };
  const culprit = signers.find(
    (j) => !verifySignatureShare(pkg, j, key.verifyingShares.get(j)!, z.get(j) as bigint),
  );
  if (culprit !== undefined) throw new MpcError('ERR_MPC_INVALID_SIGNATURE_SHARE', { culprit });
  throw new MpcError('ERR_MPC_SIGNATURE_INVALID');
}
