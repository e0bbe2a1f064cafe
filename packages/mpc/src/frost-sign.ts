/**
 * FROST threshold signing (RFC 9591 §5), without a coordinator: every signer broadcasts its
 * round-one commitments and its signature share, and every signer aggregates and verifies.
 * The RFC 9591 arithmetic is `frost-arithmetic.ts` (noble's formulas, on points decoded and
 * validated once); this module adds the session, the key tweaks and the checks.
 *
 * Signing set S ⊆ share set, |S| ≥ t, all in the session. Party i:
 * - Round 1, broadcast: `ctx ‖ D_i ‖ E_i` — a digest of the signing context (share set, S,
 *   message, path, tweak) so that a party signing something else is named at once, and the
 *   hiding/binding nonce commitments of RFC 9591 §5.1 `commit()` (fresh nonces, hedged with
 *   the share as the RFC specifies).
 * - Round 2, broadcast (with the transcript echo): the signature share `z_i` of §5.2
 *   `sign()`. The nonces exist in memory only, from `start()` to this share, and are wiped
 *   right after; they are never serialized. A session saved in between cannot be restored
 *   (`ERR_MPC_NONCE_REUSE`): restoring a stale copy and feeding it other commitments would
 *   sign twice with the same (d, e) under two binding factors, and three such shares reveal
 *   the secret share. A session saved after round 2 holds the share (public once sent), so it
 *   can resend round 2 and aggregate, but holds no secret at all.
 * - Output: the shares are aggregated (§5.3) and the signature is verified with the RFC 8032
 *   / BIP340 verifier before it is returned; if it does not verify, each share is checked with
 *   §5.4 `verify_signature_share` so that a bad one names its signer.
 *
 * Key tweaks, applied to the share set at signing time (public data only):
 * 1. HD derivation (`derivation.ts`): `x_j + τ`, `X + τ·G`, `X_j + τ·G`.
 * 2. BIP340 (`secp256k1-bip340`): signing for the x-only key `lift_x(x(P))` — noble's
 *    `schnorr_FROST` negates shares and nonces as needed (BIP340 "even Y").
 * 3. Optional BIP341 key-path tweak (`taprootMerkleRoot`: empty for BIP86, or a 32-byte
 *    script tree root): `Q = P' + H_TapTweak(x(P') ‖ root)·G` with P' the even-Y version of
 *    the derived key, so the signature verifies against the Taproot output key.
 * @module
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, equalBytes } from '@noble/curves/utils.js';
import type { FrostSecret } from '@noble/curves/abstract/frost.js';
import { ByteReader, ByteWriter, constantTimeEqual, toHex, u16be, u32be, wipe } from './bytes.js';
import { defaultRandom, type GroupPoint, type RandomSource } from './curve-suite.js';
import { deriveKey, parsePath, type DerivationPath } from './derivation.js';
import { MpcError, isMpcError } from './errors.js';
import {
  aggregateSignature,
  commit,
  signatureShare,
  signingPackage,
  verifySignatureShare,
  type SigningCommitment,
  type SigningPackage,
} from './frost-arithmetic.js';
import {
  frostHasher,
  frostProtocolIds,
  frostSuite,
  sessionContext,
  type FrostCiphersuite,
  type FrostSuite,
} from './frost-ciphersuite.js';
import {
  copyKeyShare,
  decodePublicShareSet,
  encodePublicShareSet,
  exportKeyShare,
  publicShareSet,
  wipeKeyShare,
  type KeyShare,
  type PublicShareSet,
} from './key-share.js';
import {
  checkKeyShareCached,
  checkShareSet,
  importKeyShare,
  remember,
  shareSetKey,
} from './frost-share-set.js';
import { normalizeParties } from './party-set.js';
import { INSPECT, inspectSummary } from './redact.js';
import {
  finishedProtocol,
  makeHeader,
  Session,
  type Expectation,
  type Outgoing,
  type RoundMessages,
  type RoundProtocol,
  type SessionHeader,
} from './session.js';

/** Signing ciphersuites for production keys (`secp256k1-rfc9591` is for the RFC test vectors). */
export type SigningCiphersuite = Exclude<FrostCiphersuite, 'secp256k1-rfc9591'>;

/** Parameters of {@link sign}. */
export interface SignParams {
  /** Session id, 16..64 bytes, unique per signing session (a restarted session takes a new one). */
  readonly sid: Uint8Array;
  readonly keyShare: KeyShare;
  /** The signing set: at least `threshold` members of the share set, me included. */
  readonly signers: readonly number[];
  /** The message (Ed25519: the RFC 8032 message; BIP340: usually a 32-byte sighash). */
  readonly message: Uint8Array;
  /** Non-hardened derivation path from the root key; omitted = the root key itself. */
  readonly path?: DerivationPath;
  /** secp256k1 only: `secp256k1-bip340` (the default and only one). */
  readonly ciphersuite?: SigningCiphersuite;
  /** BIP340 only: apply the BIP341 TapTweak with this merkle root (0 or 32 bytes). */
  readonly taprootMerkleRoot?: Uint8Array;
}

/**
 * Test-only options (RFC 9591 vectors); reachable through `test-hooks.ts` only, never from the
 * package entry point.
 */
export interface SignTestOptions {
  /** Nonce randomness instead of the CSPRNG. */
  readonly random?: RandomSource;
  /** Allow `secp256k1-rfc9591`, which production keys must not use (cross-protocol signing). */
  readonly allowTestVectorCiphersuite?: boolean;
}

/** A verified signature and the key it verifies under. */
export interface SignatureResult {
  /** Ed25519: 64 bytes R ‖ S; BIP340: 64 bytes; RFC 9591 secp256k1: 65 bytes. */
  readonly signature: Uint8Array;
  /** Ed25519: 32 bytes; BIP340: 32-byte x-only; RFC 9591 secp256k1: 33-byte compressed. */
  readonly publicKey: Uint8Array;
}

const MAX_MESSAGE_LENGTH = 1 << 20;

/** Public parameters of a signing session (no secret). */
interface SignConfig {
  readonly suite: FrostSuite;
  /** The share set's public part, and my index in it. */
  readonly shareSet: PublicShareSet;
  readonly index: number;
  readonly signers: readonly number[];
  readonly message: Uint8Array;
  readonly path: readonly number[];
  readonly merkleRoot: Uint8Array | undefined;
}

/** The share set after all tweaks (public). */
export interface TweakedKey {
  /** Tweaked group key (before the BIP340 even-Y step, which `frost-arithmetic.ts` applies). */
  readonly groupKey: GroupPoint;
  /** Tweaked verification shares of the signers. */
  readonly verifyingShares: ReadonlyMap<number, GroupPoint>;
  /** Key the final signature verifies under (x-only for BIP340). */
  readonly verifyKey: Uint8Array;
  /** The public linear map applied to every share: x ↦ sign·x + add. */
  readonly sign: bigint;
  readonly add: bigint;
}

/*
 * Tweaked keys, memoised like share-set validation (frost-share-set.ts): a derivation path costs
 * a base multiplication per level, and the same addresses sign again and again; the result is a
 * pure function of public data (share set, signers, path, merkle root, ciphersuite).
 */
const tweakedKeys = new Map<string, TweakedKey>();

function hasEvenY(p: GroupPoint): boolean {
  return p.toBytes()[0] === 0x02;
}

/** {@link computeTweakedKey}, memoised on the share set, signers, path, root and suite. */
function tweakedKey(cfg: SignConfig): TweakedKey {
  const setKey = shareSetKey(cfg.shareSet);
  if (setKey === undefined) return computeTweakedKey(cfg);
  const key = JSON.stringify([
    setKey,
    cfg.suite.ciphersuite,
    cfg.signers,
    cfg.path,
    cfg.merkleRoot === undefined ? null : toHex(cfg.merkleRoot),
  ]);
  return tweakedKeys.get(key) ?? remember(tweakedKeys, key, computeTweakedKey(cfg));
}

function computeTweakedKey(cfg: SignConfig): TweakedKey {
  const { suite, shareSet } = cfg;
  const checked = checkShareSet(shareSet);
  const curve = suite.curve;
  const { tweak } = deriveKey(shareSet, cfg.path);
  // Linear transform of the whole sharing: x ↦ sign·x + add (public sign and add).
  let sign = 1n;
  let add = tweak;
  const mulG = (k: bigint): GroupPoint => (k === 0n ? curve.ZERO : curve.G.multiplyUnsafe(k));
  if (cfg.merkleRoot !== undefined) {
    const P = checked.publicKey.add(mulG(add));
    if (P.is0())
      throw new MpcError('ERR_MPC_DERIVATION', { detail: 'derived key is the identity' });
    if (!hasEvenY(P)) {
      sign = -1n;
      add = curve.mod(-add);
    }
    const xOnly = P.toBytes().subarray(1);
    const tt = bytesToNumberBE(schnorr.utils.taggedHash('TapTweak', xOnly, cfg.merkleRoot));
    if (tt >= curve.order) throw new MpcError('ERR_MPC_DERIVATION', { detail: 'invalid TapTweak' });
    add = curve.mod(add + tt);
  }
  const addG = mulG(add); // once: the same public offset for the key and every share
  const map = (p: GroupPoint): GroupPoint => {
    const q = (sign === 1n ? p : p.negate()).add(addG);
    if (q.is0())
      throw new MpcError('ERR_MPC_DERIVATION', { detail: 'tweaked key is the identity' });
    return q;
  };
  const X = map(checked.publicKey);
  const verifyingShares = new Map<number, GroupPoint>();
  for (const j of cfg.signers)
    verifyingShares.set(j, map(checked.verificationShares.get(j) as GroupPoint));
  const Xb = X.toBytes();
  return Object.freeze({
    groupKey: X,
    verifyingShares,
    verifyKey: suite.ciphersuite === 'secp256k1-bip340' ? Xb.slice(1) : Xb,
    sign,
    add,
  });
}

/** My tweaked signing share `sign·x_i + add`, in noble's format (secret). */
function tweakedSecret(cfg: SignConfig, key: TweakedKey, keyShare: KeyShare): FrostSecret {
  return {
    identifier: cfg.suite.frost.Identifier.fromNumber(cfg.index),
    signingShare: cfg.suite.curve.encodeScalar(tweakedSigningShare(cfg.suite, key, keyShare)),
  } as FrostSecret;
}

/** `sign·x_i + add` for the key share's x_i (secret; also frost-nonce-set.ts). */
export function tweakedSigningShare(
  suite: FrostSuite,
  key: TweakedKey,
  keyShare: KeyShare,
): bigint {
  const { curve } = suite;
  const { secret } = checkKeyShareCached(keyShare);
  // Non-constant-time BigInt arithmetic on a secret (docs/constant-time.md).
  const x = curve.mod(key.sign * secret + key.add);
  if (x === 0n) throw new MpcError('ERR_MPC_DERIVATION', { detail: 'tweaked share is zero' });
  return x;
}

/**
 * The share set's key tweaked by the derivation `path` (no BIP341 tweak), for `signers`:
 * memoised like a session's (public; frost-nonce-set.ts signs and aggregates under it).
 */
export function derivedSigningKey(
  suite: FrostSuite,
  shareSet: PublicShareSet,
  signers: readonly number[],
  path: readonly number[],
): TweakedKey {
  return tweakedKey({
    suite,
    shareSet,
    index: 0,
    signers,
    message: new Uint8Array(0),
    path,
    merkleRoot: undefined,
  });
}

function contextDigest(header: SessionHeader, cfg: SignConfig): Uint8Array {
  const w = new ByteWriter();
  for (const i of cfg.path) w.raw(u32be(i));
  return frostHasher.hash(
    'sign/context',
    ...sessionContext(header.protocol, header.sid),
    encodePublicShareSet(cfg.shareSet),
    Uint8Array.from(cfg.signers.flatMap((s) => [...u16be(s)])),
    cfg.message,
    w.finish(),
    cfg.merkleRoot === undefined ? new Uint8Array(0) : Uint8Array.of(1, ...cfg.merkleRoot),
  );
}

/**
 * Where a signer is, and what its state may hold:
 * - `fresh`: nothing drawn yet; state holds the key share (restorable: start() draws new nonces);
 * - `committed`: nonces drawn and commitments sent; the nonces live in memory only, so the
 *   state records the phase and nothing else, and refuses to load (`ERR_MPC_NONCE_REUSE`);
 * - `shared`: my signature share computed, nonces and secret share wiped; state holds the
 *   public share set, my share and the commitment list, so round 2 can be resent;
 * - `done`: the verified signature.
 */
type Phase = 'fresh' | 'committed' | 'shared' | 'done';
const PHASE_TAG: Record<Phase, number> = { fresh: 0, committed: 1, shared: 2, done: 3 };

class FrostSign implements RoundProtocol<SignatureResult> {
  readonly rounds = 2;
  readonly confirmRound = 2;
  readonly #header: SessionHeader;
  readonly #cfg: SignConfig;
  readonly #others: readonly number[];
  readonly #context: Uint8Array;
  readonly #random: RandomSource;
  #phase: Phase;
  /** My key share: until my signature share is computed (secret). */
  #keyShare: KeyShare | undefined;
  #key: TweakedKey | undefined;
  /** My tweaked signing share, cached between start() and round 2 (secret). */
  #secret: FrostSecret | undefined;
  /** RFC 9591 nonces (d, e): in memory only, never serialized, wiped after one use (secret). */
  #nonces: { readonly hiding: Uint8Array; readonly binding: Uint8Array } | undefined;
  /** My commitments `(D_i, E_i)` to those nonces, as sent (public). */
  #ownCommitment: SigningCommitment | undefined;
  /**
   * Round-1 commitments as validated by `checkPayload` on arrival, with the payload they came
   * from, so that round 2 does not decode (and subgroup-check) the same points again (public).
   */
  readonly #received = new Map<number, { payload: Uint8Array; commitment: SigningCommitment }>();
  /** All signers' commitments, by index (public once exchanged). */
  #commitments: SigningCommitment[] | undefined;
  /** Binding factors, group commitment, challenge: computed once in round 2 (public). */
  #package: SigningPackage | undefined;
  /** My signature share (public once broadcast), kept for aggregation and resending. */
  #myShare: Uint8Array | undefined;
  #signature: SignatureResult | undefined;

  constructor(
    header: SessionHeader,
    cfg: SignConfig,
    phase: 'fresh' | 'shared',
    keyShare: KeyShare | undefined,
    random: RandomSource,
  ) {
    this.#header = header;
    this.#cfg = cfg;
    this.#phase = phase;
    this.#keyShare = keyShare;
    this.#random = random;
    this.#others = header.parties.filter((p) => p !== header.me);
    this.#context = contextDigest(header, cfg);
  }

  /** Validates the key share and computes the tweaked key once (fails at creation). */
  prepare(): void {
    void this.#secretShare();
  }

  #tweaked(): TweakedKey {
    return (this.#key ??= tweakedKey(this.#cfg));
  }

  #secretShare(): FrostSecret {
    if (this.#keyShare === undefined)
      throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'key material wiped' });
    return (this.#secret ??= tweakedSecret(this.#cfg, this.#tweaked(), this.#keyShare));
  }

  expect(): Expectation {
    return { broadcastFrom: this.#others, p2pFrom: [] };
  }

  start(): Outgoing[] {
    if (this.#phase !== 'fresh') throw new MpcError('ERR_MPC_NONCE_REUSE');
    const { suite } = this.#cfg;
    // RFC 9591 §5.1: fresh nonces, hedged with the secret share.
    const g = commit(suite, this.#header.me, this.#secretShare().signingShare, this.#random);
    this.#nonces = { hiding: g.hiding, binding: g.binding };
    this.#ownCommitment = g.commitment;
    this.#phase = 'committed';
    const payload = new ByteWriter()
      .raw(this.#context)
      .raw(g.commitment.hiding.toBytes())
      .raw(g.commitment.binding.toBytes())
      .finish();
    return [{ to: 'broadcast', payload }];
  }

  checkPayload(round: number, _kind: 'broadcast' | 'p2p', from: number, payload: Uint8Array): void {
    const { curve } = this.#cfg.suite;
    const r = new ByteReader(payload, `sign round ${round}`, from);
    if (round === 1) {
      const ctx = r.take(32);
      const D = r.take(curve.pointLength);
      const E = r.take(curve.pointLength);
      r.end();
      if (!constantTimeEqual(ctx, this.#context))
        throw new MpcError('ERR_MPC_CONTEXT_MISMATCH', { culprit: from });
      const commitment = {
        index: from,
        hiding: curve.decodePoint(D, from),
        binding: curve.decodePoint(E, from),
      };
      this.#received.set(from, { payload: payload.slice(), commitment });
    } else {
      curve.decodeScalar(r.take(32), from, true);
      r.end();
    }
  }

  advance(round: number, input: RoundMessages): Outgoing[] {
    return round === 1 ? this.#round2(input) : this.#finish(input);
  }

  /** Signer j's validated commitments: from checkPayload if the bytes are the same, else decoded. */
  #commitmentOf(j: number, payload: Uint8Array): SigningCommitment {
    const seen = this.#received.get(j);
    if (seen !== undefined && equalBytes(seen.payload, payload)) return seen.commitment;
    const { curve } = this.#cfg.suite;
    const P = curve.pointLength;
    return {
      index: j,
      hiding: curve.decodePoint(payload.subarray(32, 32 + P), j),
      binding: curve.decodePoint(payload.subarray(32 + P, 32 + 2 * P), j),
    };
  }

  #round2(input: RoundMessages): Outgoing[] {
    const { suite } = this.#cfg;
    const nonces = this.#nonces;
    const own = this.#ownCommitment;
    // Without the nonces of this very session (e.g. a restored state) there is no second try.
    if (this.#phase !== 'committed' || nonces === undefined || own === undefined)
      throw new MpcError('ERR_MPC_NONCE_REUSE');
    this.#nonces = undefined;
    let share: Uint8Array;
    try {
      const secret = this.#secretShare();
      const key = this.#tweaked();
      // My own commitments come from memory, never from the wire: a peer cannot make me sign
      // under commitments other than those of my nonces.
      const list = this.#header.parties.map((j) =>
        j === this.#header.me ? own : this.#commitmentOf(j, input.broadcast.get(j) as Uint8Array),
      );
      const pkg = this.#signingPackage(key, list);
      try {
        // Non-constant-time BigInt decoding of secrets, as noble's signShare does
        // (docs/constant-time.md). A wiped (all-zero) nonce fails here: used once only.
        share = signatureShare(
          pkg,
          this.#header.me,
          suite.curve.decodeScalar(secret.signingShare),
          suite.curve.decodeScalar(nonces.hiding),
          suite.curve.decodeScalar(nonces.binding),
        );
      } catch (e) {
        throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'signShare', cause: e });
      }
      this.#commitments = list;
      this.#package = pkg;
    } finally {
      wipe(nonces.hiding, nonces.binding);
      this.#wipeSecrets();
    }
    this.#received.clear();
    this.#myShare = share.slice();
    this.#phase = 'shared';
    return [{ to: 'broadcast', payload: share }];
  }

  /** RFC 9591 §4.3–4.6 for this session (public values only). */
  #signingPackage(key: TweakedKey, list: readonly SigningCommitment[]): SigningPackage {
    try {
      return signingPackage(this.#cfg.suite, key.groupKey, list, this.#cfg.message);
    } catch (e) {
      // Only a group commitment at infinity gets here (needs a hash preimage; nobody to blame).
      throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'signing package', cause: e });
    }
  }

  #finish(input: RoundMessages): Outgoing[] {
    const { suite, message } = this.#cfg;
    const { curve } = suite;
    const key = this.#tweaked();
    const list = this.#commitments;
    const myShare = this.#myShare;
    if (this.#phase !== 'shared' || list === undefined || myShare === undefined)
      throw new MpcError('ERR_MPC_SESSION_STATE');
    const pkg = (this.#package ??= this.#signingPackage(key, list));
    const shares = new Map<number, bigint>();
    for (const j of this.#header.parties)
      shares.set(
        j,
        curve.decodeScalar(
          j === this.#header.me ? myShare : (input.broadcast.get(j) as Uint8Array),
          j,
          true,
        ),
      );
    // RFC 9591 §5.3: aggregate, then verify with the verifier a chain uses (RFC 8032 strict /
    // BIP340). Only if that fails, §5.4: verify each share to name the signer at fault.
    const signature = aggregateSignature(pkg, [...shares.values()]);
    if (!verifySignature(suite.ciphersuite, suite.frost, signature, message, key.verifyKey)) {
      const culprit = this.#others.find(
        (j) =>
          !verifySignatureShare(
            pkg,
            j,
            key.verifyingShares.get(j) as GroupPoint,
            shares.get(j) as bigint,
          ),
      );
      if (culprit !== undefined) throw new MpcError('ERR_MPC_INVALID_SIGNATURE_SHARE', { culprit });
      throw new MpcError('ERR_MPC_SIGNATURE_INVALID');
    }
    this.#signature = { signature, publicKey: key.verifyKey.slice() };
    this.#phase = 'done';
    return [];
  }

  result(): SignatureResult | undefined {
    return this.#signature;
  }

  encodeState(): Uint8Array {
    const w = new ByteWriter().u8(PHASE_TAG[this.#phase]);
    switch (this.#phase) {
      case 'done': {
        const sig = this.#signature as SignatureResult;
        return w.bytes(sig.signature).bytes(sig.publicKey).finish();
      }
      case 'committed':
        // The nonces are never written: a copy of this state must not be able to sign.
        return w.finish();
      case 'fresh':
        w.bytes(exportKeyShare(this.#keyShare as KeyShare));
        break;
      case 'shared':
        w.u16(this.#cfg.index).bytes(encodePublicShareSet(this.#cfg.shareSet));
        break;
    }
    const cfg = this.#cfg;
    w.u8(cfg.signers.length);
    for (const s of cfg.signers) w.u16(s);
    w.bytes(cfg.message);
    w.u8(cfg.path.length);
    for (const i of cfg.path) w.u32(i);
    if (cfg.merkleRoot === undefined) w.u8(0);
    else w.u8(1).bytes(cfg.merkleRoot);
    if (this.#phase === 'shared') {
      w.raw(this.#myShare as Uint8Array);
      for (const c of this.#commitments as SigningCommitment[])
        w.raw(c.hiding.toBytes()).raw(c.binding.toBytes());
    }
    return w.finish();
  }

  static load(header: SessionHeader, state: Uint8Array): RoundProtocol<SignatureResult> {
    const cs = ciphersuiteFromProtocol(header.protocol);
    const suite = frostSuite(cs);
    const r = new ByteReader(state, 'sign state');
    const tag = r.u8();
    if (tag === PHASE_TAG.done) {
      const result = { signature: r.bytes(128), publicKey: r.bytes(64) };
      r.end();
      return finishedProtocol(2, 2, result, state.slice());
    }
    if (tag === PHASE_TAG.committed)
      // Saved after the commitments went out: the nonces are gone, and signing again with other
      // nonces under the same commitments is impossible. The orchestrator restarts the signing
      // with a fresh sid (ARCHITECTURE.md §8).
      throw new MpcError('ERR_MPC_NONCE_REUSE', {
        detail: 'session saved after round 1 cannot resume; restart with a fresh sid',
      });
    if (tag !== PHASE_TAG.fresh && tag !== PHASE_TAG.shared) return r.fail('phase');
    let keyShare: KeyShare | undefined;
    let shareSet: PublicShareSet;
    let index: number;
    if (tag === PHASE_TAG.fresh) {
      keyShare = importKeyShare(r.bytes(4096));
      shareSet = publicShareSet(keyShare);
      index = keyShare.index;
    } else {
      index = r.u16();
      shareSet = decodePublicShareSet(r.bytes(4096));
    }
    const signers: number[] = [];
    for (let n = r.u8(); n > 0; n--) signers.push(r.u16());
    const message = r.bytes(MAX_MESSAGE_LENGTH);
    const path: number[] = [];
    for (let n = r.u8(); n > 0; n--) path.push(r.u32());
    const merkleFlag = r.u8();
    if (merkleFlag > 1) r.fail('merkle root flag');
    const merkleRoot = merkleFlag === 1 ? r.bytes(32) : undefined;
    const cfg = makeConfig(suite, shareSet, index, signers, message, path, merkleRoot, header);
    const p = new FrostSign(
      header,
      cfg,
      tag === PHASE_TAG.fresh ? 'fresh' : 'shared',
      keyShare,
      defaultRandom,
    );
    if (tag === PHASE_TAG.shared) {
      p.#myShare = suite.curve.encodeScalar(suite.curve.decodeScalar(r.take(32), undefined, true));
      p.#commitments = cfg.signers.map((j) => ({
        index: j,
        hiding: suite.curve.decodePoint(r.take(suite.curve.pointLength)),
        binding: suite.curve.decodePoint(r.take(suite.curve.pointLength)),
      }));
    }
    r.end();
    return p;
  }

  #wipeSecrets(): void {
    if (this.#secret !== undefined) wipe(this.#secret.signingShare);
    this.#secret = undefined;
    if (this.#keyShare !== undefined) wipeKeyShare(this.#keyShare);
    this.#keyShare = undefined;
  }

  wipe(): void {
    if (this.#nonces !== undefined) wipe(this.#nonces.hiding, this.#nonces.binding);
    this.#nonces = undefined;
    this.#received.clear();
    this.#wipeSecrets();
  }

  toJSON(): Record<string, unknown> {
    return {
      protocol: this.#header.protocol,
      me: this.#header.me,
      signers: [...this.#cfg.signers],
      phase: this.#phase,
    };
  }

  [INSPECT](_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string): string {
    return inspectSummary('FrostSign', this.toJSON(), options, inspect);
  }
}

/** DER SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410). */
const ED25519_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

/**
 * The final check of every FROST signature, with the verifier a chain uses. Ed25519 must stay
 * cofactorless (OpenSSL): frost-nonce-set.ts leaves the subgroup check of commitment lists to it.
 */
export function verifySignature(
  cs: FrostCiphersuite,
  frost: FrostSuite['frost'],
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (cs === 'ed25519') {
    // RFC 8032 verification by OpenSSL (node:crypto), ~5× faster than noble's: it requires
    // S < L and R to be the canonical encoding of [S]B − [k]A (cofactorless, the stricter
    // equation). For our key A (canonical, non-identity, torsion-free) whatever it accepts,
    // noble's strict mode (zip215: false) accepts too; test/frost-sign.test.ts checks both.
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    return nodeVerify(null, message, key, signature);
  }
  if (cs === 'secp256k1-bip340') return schnorr.verify(signature, message, publicKey);
  return frost.verify(signature, message, publicKey);
}

/** Signing sessions restore only for production ciphersuites. */
function ciphersuiteFromProtocol(protocol: string): SigningCiphersuite {
  for (const cs of ['ed25519', 'secp256k1-bip340'] as const)
    if (protocol === frostProtocolIds.sign(cs)) return cs;
  throw new MpcError('ERR_MPC_MALFORMED', { detail: 'protocol id' });
}

/** The signers, sorted: at least the threshold, all of the share set (also frost-nonce-set.ts). */
export function signingSet(shareSet: PublicShareSet, signers: readonly number[]): number[] {
  const sorted = normalizeParties(signers, 'signers');
  if (sorted.length < shareSet.threshold)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'fewer signers than the threshold' });
  for (const s of sorted)
    if (!shareSet.parties.includes(s))
      throw new MpcError('ERR_MPC_INVALID_PARTY', {
        culprit: s,
        detail: 'signer not in share set',
      });
  return sorted;
}

function makeConfig(
  suite: FrostSuite,
  shareSet: PublicShareSet,
  index: number,
  signers: readonly number[],
  message: Uint8Array,
  path: readonly number[],
  merkleRoot: Uint8Array | undefined,
  header: SessionHeader,
): SignConfig {
  if (shareSet.curve !== suite.curve.name)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: 'ciphersuite does not match the key curve',
    });
  const sorted = signingSet(shareSet, signers);
  if (index !== header.me)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'key share index is not me' });
  if (sorted.length !== header.parties.length || sorted.some((p, i) => p !== header.parties[i]))
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'signers are the session parties' });
  if (!(message instanceof Uint8Array) || message.length > MAX_MESSAGE_LENGTH)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'message' });
  if (merkleRoot !== undefined) {
    if (suite.ciphersuite !== 'secp256k1-bip340')
      throw new MpcError('ERR_MPC_INVALID_PARAMS', {
        detail: 'taprootMerkleRoot needs secp256k1-bip340',
      });
    if (
      !(merkleRoot instanceof Uint8Array) ||
      (merkleRoot.length !== 0 && merkleRoot.length !== 32)
    )
      throw new MpcError('ERR_MPC_INVALID_PARAMS', {
        detail: 'taprootMerkleRoot must be 0 or 32 bytes',
      });
  }
  return {
    suite,
    shareSet: publicShareSet(shareSet),
    index,
    signers: sorted,
    message: message.slice(),
    path: [...path],
    merkleRoot: merkleRoot?.slice(),
  };
}

function createSign(
  params: Omit<SignParams, 'ciphersuite'>,
  ciphersuite: FrostCiphersuite | undefined,
  test: SignTestOptions,
): Session<SignatureResult> {
  const keyShare = copyKeyShare(params.keyShare); // own copy: the caller may wipe theirs
  const cs: FrostCiphersuite =
    ciphersuite ?? (keyShare.curve === 'ed25519' ? 'ed25519' : 'secp256k1-bip340');
  if (cs === 'secp256k1-rfc9591' && test.allowTestVectorCiphersuite !== true)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: 'secp256k1-rfc9591 is for test vectors only',
    });
  const suite = frostSuite(cs);
  const header = makeHeader(frostProtocolIds.sign(cs), params.sid, params.signers, keyShare.index);
  const path = params.path === undefined ? [] : parsePath(params.path);
  const cfg = makeConfig(
    suite,
    keyShare,
    keyShare.index,
    params.signers,
    params.message,
    path,
    params.taprootMerkleRoot,
    header,
  );
  const protocol = new FrostSign(header, cfg, 'fresh', keyShare, test.random ?? defaultRandom);
  try {
    protocol.prepare(); // fail at creation on a bad key share or an invalid derived key
  } catch (e) {
    protocol.wipe();
    if (isMpcError(e)) throw e;
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { cause: e });
  }
  return Session.create(header, protocol);
}

/**
 * Creates a signing session; `start()` it and route its messages. Nonces are drawn at
 * `start()` and never leave memory: a session persisted after `start()` and before its
 * signature share cannot be resumed (`ERR_MPC_NONCE_REUSE`); sign again under a fresh sid.
 */
export function sign(params: SignParams): Session<SignatureResult> {
  return createSign(params, params.ciphersuite, {});
}

/** Test-only: {@link sign} with injected randomness and the RFC 9591 secp256k1 suite. */
export function signForTesting(
  params: Omit<SignParams, 'ciphersuite'> & { readonly ciphersuite?: FrostCiphersuite },
  test: SignTestOptions,
): Session<SignatureResult> {
  return createSign(params, params.ciphersuite, test);
}

/** Loader for {@link Session.restore}. */
export const loadSign = (
  header: SessionHeader,
  state: Uint8Array,
): RoundProtocol<SignatureResult> => FrostSign.load(header, state);
