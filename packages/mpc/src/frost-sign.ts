/**
 * FROST threshold signing (RFC 9591 §5), without a coordinator: every signer broadcasts its
 * round-one commitments and its signature share, and every signer aggregates and verifies.
 * The RFC 9591 arithmetic (`commit`, `signShare`, `verifyShare`, `aggregate`) is
 * `@noble/curves`' implementation; this module adds the session, the key tweaks and the checks.
 *
 * Signing set S ⊆ share set, |S| ≥ t, all in the session. Party i:
 * - Round 1, broadcast: `ctx ‖ D_i ‖ E_i` — a digest of the signing context (share set, S,
 *   message, path, tweak) so that a party signing something else is named at once, and the
 *   hiding/binding nonce commitments of RFC 9591 §5.1 `commit()` (fresh nonces, hedged with
 *   the share as the RFC specifies).
 * - Round 2, broadcast (with the transcript echo): the signature share `z_i` of §5.2
 *   `sign()`. noble zeroes the nonces in place; we drop them from the state as well, so a
 *   persisted session after round 1 never holds them again.
 * - Output: each share is checked with §5.4 `verify_signature_share` (a bad one names its
 *   signer), the shares are aggregated (§5.3), and the signature is verified with the RFC 8032
 *   / BIP340 verifier before it is returned.
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
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import type {
  Nonces,
  NonceCommitments,
  FrostPublic,
  FrostSecret,
} from '@noble/curves/abstract/frost.js';
import { ByteReader, ByteWriter, constantTimeEqual, u16be, u32be, wipe } from './bytes.js';
import { defaultRandom, type GroupPoint, type RandomSource } from './curve-suite.js';
import { deriveKey, parsePath, type DerivationPath } from './derivation.js';
import { MpcError, isMpcError } from './errors.js';
import {
  frostHasher,
  frostProtocolIds,
  frostSuite,
  sessionContext,
  type FrostCiphersuite,
  type FrostSuite,
} from './frost-ciphersuite.js';
import {
  checkKeyShare,
  copyKeyShare,
  encodePublicShareSet,
  exportKeyShare,
  importKeyShare,
  type KeyShare,
} from './key-share.js';
import { normalizeParties } from './party-set.js';
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

/** Parameters of {@link sign}. */
export interface SignParams {
  /** Session id, 16..64 bytes, unique per signing session. */
  readonly sid: Uint8Array;
  readonly keyShare: KeyShare;
  /** The signing set: at least `threshold` members of the share set, me included. */
  readonly signers: readonly number[];
  /** The message (Ed25519: the RFC 8032 message; BIP340: usually a 32-byte sighash). */
  readonly message: Uint8Array;
  /** Non-hardened derivation path from the root key; omitted = the root key itself. */
  readonly path?: DerivationPath;
  /** secp256k1 only: `secp256k1-bip340` (default) or `secp256k1-rfc9591`. */
  readonly ciphersuite?: FrostCiphersuite;
  /** BIP340 only: apply the BIP341 TapTweak with this merkle root (0 or 32 bytes). */
  readonly taprootMerkleRoot?: Uint8Array;
  /** Randomness; tests only (RFC 9591 vectors). */
  readonly random?: RandomSource;
}

/** A verified signature and the key it verifies under. */
export interface SignatureResult {
  /** Ed25519: 64 bytes R ‖ S; BIP340: 64 bytes; RFC 9591 secp256k1: 65 bytes. */
  readonly signature: Uint8Array;
  /** Ed25519: 32 bytes; BIP340: 32-byte x-only; RFC 9591 secp256k1: 33-byte compressed. */
  readonly publicKey: Uint8Array;
}

const MAX_MESSAGE_LENGTH = 1 << 20;

interface SignConfig {
  readonly suite: FrostSuite;
  readonly keyShare: KeyShare;
  readonly signers: readonly number[];
  readonly message: Uint8Array;
  readonly path: readonly number[];
  readonly merkleRoot: Uint8Array | undefined;
}

/** The share set after all tweaks, in noble's package format. */
interface TweakedKey {
  readonly secret: FrostSecret;
  readonly pub: FrostPublic;
  /** Key the final signature verifies under (x-only for BIP340). */
  readonly verifyKey: Uint8Array;
}

function hasEvenY(p: GroupPoint): boolean {
  return p.toBytes()[0] === 0x02;
}

function tweakedKey(cfg: SignConfig): TweakedKey {
  const { suite, keyShare } = cfg;
  const { checked, secret } = checkKeyShare(keyShare);
  const curve = suite.curve;
  const { tweak } = deriveKey(keyShare, cfg.path);
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
  const map = (p: GroupPoint): GroupPoint => {
    const q = (sign === 1n ? p : p.negate()).add(mulG(add));
    if (q.is0())
      throw new MpcError('ERR_MPC_DERIVATION', { detail: 'tweaked key is the identity' });
    return q;
  };
  const X = map(checked.publicKey);
  const verifyingShares: Record<string, Uint8Array> = {};
  for (const j of cfg.signers)
    verifyingShares[suite.frost.Identifier.fromNumber(j)] = map(
      checked.verificationShares.get(j) as GroupPoint,
    ).toBytes();
  const x = curve.mod(sign * secret + add);
  if (x === 0n) throw new MpcError('ERR_MPC_DERIVATION', { detail: 'tweaked share is zero' });
  const Xb = X.toBytes();
  return {
    secret: {
      identifier: suite.frost.Identifier.fromNumber(keyShare.index),
      signingShare: curve.encodeScalar(x),
    } as FrostSecret,
    pub: {
      signers: { min: keyShare.threshold, max: keyShare.parties.length },
      commitments: [Xb],
      verifyingShares,
    } as FrostPublic,
    verifyKey: suite.ciphersuite === 'secp256k1-bip340' ? Xb.slice(1) : Xb,
  };
}

function contextDigest(header: SessionHeader, cfg: SignConfig): Uint8Array {
  const w = new ByteWriter();
  for (const i of cfg.path) w.raw(u32be(i));
  return frostHasher.hash(
    'sign/context',
    ...sessionContext(header.protocol, header.sid),
    encodePublicShareSet(cfg.keyShare),
    Uint8Array.from(cfg.signers.flatMap((s) => [...u16be(s)])),
    cfg.message,
    w.finish(),
    cfg.merkleRoot === undefined ? new Uint8Array(0) : Uint8Array.of(1, ...cfg.merkleRoot),
  );
}

class FrostSign implements RoundProtocol<SignatureResult> {
  readonly rounds = 2;
  readonly confirmRound = 2;
  private readonly others: readonly number[];
  private readonly context: Uint8Array;
  private key: TweakedKey | undefined;

  constructor(
    private readonly header: SessionHeader,
    private readonly cfg: SignConfig,
    private nonces: Nonces | undefined,
    private commitmentList: NonceCommitments[] | undefined,
    private signature: SignatureResult | undefined,
    private readonly random: RandomSource,
  ) {
    this.others = header.parties.filter((p) => p !== header.me);
    this.context = contextDigest(header, cfg);
  }

  private wiped = false;

  /** Validates the key share and computes the tweaked key once. */
  prepare(): void {
    void this.tweaked;
  }

  private get tweaked(): TweakedKey {
    if (this.wiped) throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'key material wiped' });
    return (this.key ??= tweakedKey(this.cfg));
  }

  expect(): Expectation {
    return { broadcastFrom: this.others, p2pFrom: [] };
  }

  start(): Outgoing[] {
    const { frost } = this.cfg.suite;
    const rng = (n = 32): Uint8Array<ArrayBuffer> => {
      const b = this.random(n);
      const copy = new Uint8Array(b);
      b.fill(0);
      return copy;
    };
    const g = frost.commit(this.tweaked.secret, rng);
    this.nonces = { hiding: g.nonces.hiding, binding: g.nonces.binding };
    const payload = new ByteWriter()
      .raw(this.context)
      .raw(g.commitments.hiding)
      .raw(g.commitments.binding)
      .finish();
    return [{ to: 'broadcast', payload }];
  }

  checkPayload(round: number, _kind: 'broadcast' | 'p2p', from: number, payload: Uint8Array): void {
    const { curve } = this.cfg.suite;
    const r = new ByteReader(payload, `sign round ${round}`, from);
    if (round === 1) {
      const ctx = r.take(32);
      const D = r.take(curve.pointLength);
      const E = r.take(curve.pointLength);
      r.end();
      if (!constantTimeEqual(ctx, this.context))
        throw new MpcError('ERR_MPC_CONTEXT_MISMATCH', { culprit: from });
      curve.decodePoint(D, from);
      curve.decodePoint(E, from);
    } else {
      curve.decodeScalar(r.take(32), from, true);
      r.end();
    }
  }

  advance(round: number, input: RoundMessages): Outgoing[] {
    return round === 1 ? this.round2(input) : this.finish(input);
  }

  private commitmentOf(j: number, payload: Uint8Array): NonceCommitments {
    const { suite } = this.cfg;
    const P = suite.curve.pointLength;
    return {
      identifier: suite.frost.Identifier.fromNumber(j),
      hiding: payload.slice(32, 32 + P),
      binding: payload.slice(32 + P, 32 + 2 * P),
    };
  }

  private round2(input: RoundMessages): Outgoing[] {
    const { suite, message } = this.cfg;
    const nonces = this.nonces;
    if (nonces === undefined) throw new MpcError('ERR_MPC_NONCE_REUSE');
    const key = this.tweaked;
    const own = this.ownCommitment(nonces);
    const list = this.header.parties.map((j) =>
      j === this.header.me ? own : this.commitmentOf(j, input.broadcast.get(j) as Uint8Array),
    );
    let share: Uint8Array;
    try {
      share = suite.frost.signShare(key.secret, key.pub, nonces, list, message);
    } catch (e) {
      throw new MpcError('ERR_MPC_SESSION_STATE', { detail: 'signShare', cause: e });
    } finally {
      wipe(nonces.hiding, nonces.binding);
      this.nonces = undefined;
    }
    this.commitmentList = list;
    this.myShare = share.slice();
    return [{ to: 'broadcast', payload: share }];
  }

  private ownCommitment(nonces: Nonces): NonceCommitments {
    const { curve, frost } = this.cfg.suite;
    const h = curve.decodeScalar(nonces.hiding);
    const b = curve.decodeScalar(nonces.binding);
    return {
      identifier: frost.Identifier.fromNumber(this.header.me),
      hiding: curve.G.multiply(h).toBytes(),
      binding: curve.G.multiply(b).toBytes(),
    } as NonceCommitments;
  }

  private finish(input: RoundMessages): Outgoing[] {
    const { suite, message } = this.cfg;
    const { frost } = suite;
    const key = this.tweaked;
    const list = this.commitmentList;
    if (list === undefined || this.myShare === undefined)
      throw new MpcError('ERR_MPC_SESSION_STATE');
    const shares: Record<string, Uint8Array> = {};
    const indexOf = new Map<string, number>();
    for (const j of this.header.parties) {
      const id = frost.Identifier.fromNumber(j);
      indexOf.set(id, j);
      shares[id] = j === this.header.me ? this.myShare : (input.broadcast.get(j) as Uint8Array);
    }
    let signature: Uint8Array;
    try {
      // RFC 9591 §5.3/§5.4: aggregate, verify the signature, and only if it fails verify
      // each share to name the signer at fault (noble reports them as `cheaters`).
      signature = frost.aggregate(key.pub, list, message, shares);
    } catch (e) {
      const cheaters = (e as { cheaters?: unknown }).cheaters;
      const culprit = Array.isArray(cheaters)
        ? cheaters
            .map((c) => indexOf.get(String(c)))
            .find((j) => j !== undefined && j !== this.header.me)
        : undefined;
      if (culprit !== undefined)
        throw new MpcError('ERR_MPC_INVALID_SIGNATURE_SHARE', { culprit, cause: e });
      throw new MpcError('ERR_MPC_SIGNATURE_INVALID', { cause: e });
    }
    // Independent check with the verifier a chain uses (RFC 8032 strict / BIP340).
    if (!verifySignature(suite.ciphersuite, frost, signature, message, key.verifyKey))
      throw new MpcError('ERR_MPC_SIGNATURE_INVALID');
    this.signature = { signature, publicKey: key.verifyKey.slice() };
    this.wipe();
    return [];
  }

  /** My signature share (public once broadcast), kept for aggregation. */
  private myShare: Uint8Array | undefined;

  result(): SignatureResult | undefined {
    return this.signature;
  }

  encodeState(): Uint8Array {
    if (this.signature !== undefined)
      return new ByteWriter()
        .u8(1)
        .bytes(this.signature.signature)
        .bytes(this.signature.publicKey)
        .finish();
    const { cfg } = this;
    const w = new ByteWriter().u8(0).bytes(exportKeyShare(cfg.keyShare));
    w.u8(cfg.signers.length);
    for (const s of cfg.signers) w.u16(s);
    w.bytes(cfg.message);
    w.u8(cfg.path.length);
    for (const i of cfg.path) w.u32(i);
    if (cfg.merkleRoot === undefined) w.u8(0);
    else w.u8(1).bytes(cfg.merkleRoot);
    if (this.nonces === undefined) w.u8(0);
    else w.u8(1).raw(this.nonces.hiding).raw(this.nonces.binding);
    if (this.commitmentList === undefined || this.myShare === undefined) w.u8(0);
    else {
      w.u8(1).raw(this.myShare);
      for (const c of this.commitmentList) w.raw(c.hiding).raw(c.binding);
    }
    return w.finish();
  }

  static load(header: SessionHeader, state: Uint8Array): RoundProtocol<SignatureResult> {
    const cs = ciphersuiteFromProtocol(header.protocol);
    const suite = frostSuite(cs);
    const r = new ByteReader(state, 'sign state');
    if (r.u8() === 1) {
      const result = { signature: r.bytes(128), publicKey: r.bytes(64) };
      r.end();
      return finishedProtocol(2, 2, result, state.slice());
    }
    const keyShare = importKeyShare(r.bytes(4096));
    const signers: number[] = [];
    for (let n = r.u8(); n > 0; n--) signers.push(r.u16());
    const message = r.bytes(MAX_MESSAGE_LENGTH);
    const path: number[] = [];
    for (let n = r.u8(); n > 0; n--) path.push(r.u32());
    const merkleRoot = r.u8() === 1 ? r.bytes(32) : undefined;
    const nonces =
      r.u8() === 1 ? ({ hiding: r.take(32), binding: r.take(32) } as Nonces) : undefined;
    let list: NonceCommitments[] | undefined;
    let myShare: Uint8Array | undefined;
    if (r.u8() === 1) {
      myShare = r.take(32);
      list = signers.map(
        (j) =>
          ({
            identifier: suite.frost.Identifier.fromNumber(j),
            hiding: r.take(suite.curve.pointLength),
            binding: r.take(suite.curve.pointLength),
          }) as NonceCommitments,
      );
    }
    r.end();
    const cfg = makeConfig(suite, keyShare, signers, message, path, merkleRoot, header);
    const p = new FrostSign(header, cfg, nonces, list, undefined, defaultRandom);
    p.myShare = myShare;
    return p;
  }

  wipe(): void {
    if (this.nonces !== undefined) wipe(this.nonces.hiding, this.nonces.binding);
    this.nonces = undefined;
    if (this.key !== undefined) wipe(this.key.secret.signingShare);
    this.key = undefined;
    wipe(this.cfg.keyShare.signingShare);
    this.wiped = true;
  }
}

function verifySignature(
  cs: FrostCiphersuite,
  frost: FrostSuite['frost'],
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (cs === 'ed25519') return ed25519.verify(signature, message, publicKey, { zip215: false });
  if (cs === 'secp256k1-bip340') return schnorr.verify(signature, message, publicKey);
  return frost.verify(signature, message, publicKey);
}

function ciphersuiteFromProtocol(protocol: string): FrostCiphersuite {
  for (const cs of ['ed25519', 'secp256k1-bip340', 'secp256k1-rfc9591'] as const)
    if (protocol === frostProtocolIds.sign(cs)) return cs;
  throw new MpcError('ERR_MPC_MALFORMED', { detail: 'protocol id' });
}

function makeConfig(
  suite: FrostSuite,
  keyShare: KeyShare,
  signers: readonly number[],
  message: Uint8Array,
  path: readonly number[],
  merkleRoot: Uint8Array | undefined,
  header: SessionHeader,
): SignConfig {
  if (keyShare.curve !== suite.curve.name)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: 'ciphersuite does not match the key curve',
    });
  const sorted = normalizeParties(signers, 'signers');
  if (sorted.length < keyShare.threshold)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'fewer signers than the threshold' });
  for (const s of sorted)
    if (!keyShare.parties.includes(s))
      throw new MpcError('ERR_MPC_INVALID_PARTY', {
        culprit: s,
        detail: 'signer not in share set',
      });
  if (keyShare.index !== header.me)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'key share index is not me' });
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
    keyShare,
    signers: sorted,
    message: message.slice(),
    path: [...path],
    merkleRoot: merkleRoot?.slice(),
  };
}

/** Creates a signing session; `start()` it and route its messages. */
export function sign(params: SignParams): Session<SignatureResult> {
  const keyShare = copyKeyShare(params.keyShare); // own copy: the caller may wipe theirs
  let cs: FrostCiphersuite;
  if (keyShare.curve === 'ed25519') cs = params.ciphersuite ?? 'ed25519';
  else cs = params.ciphersuite ?? 'secp256k1-bip340';
  const suite = frostSuite(cs);
  const header = makeHeader(frostProtocolIds.sign(cs), params.sid, params.signers, keyShare.index);
  const path = params.path === undefined ? [] : parsePath(params.path);
  const cfg = makeConfig(
    suite,
    keyShare,
    params.signers,
    params.message,
    path,
    params.taprootMerkleRoot,
    header,
  );
  const protocol = new FrostSign(
    header,
    cfg,
    undefined,
    undefined,
    undefined,
    params.random ?? defaultRandom,
  );
  try {
    protocol.prepare(); // fail at creation on a bad key share or an invalid derived key
  } catch (e) {
    if (isMpcError(e)) throw e;
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { cause: e });
  }
  return Session.create(header, protocol);
}

/** Loader for {@link Session.restore}. */
export const loadSign = (
  header: SessionHeader,
  state: Uint8Array,
): RoundProtocol<SignatureResult> => FrostSign.load(header, state);
