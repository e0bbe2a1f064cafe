/**
 * Reshare and refresh of a FROST share set: the same group key, new shares (ARCHITECTURE.md §3
 * "Next signer" and "Refresh").
 *
 * Resharing by Lagrange-weighted re-dealing (Desmedt–Jajodia, *Redistributing secret shares to
 * new access structures*, 1997; Wong–Wang–Wing, *Verifiable secret redistribution*, 2002, §4,
 * which adds the Feldman checks below; the same construction as specs/dkls23.md
 * "Derivation, reshare, refresh"). Old parties D (the dealers, |D| ≥ t_old), new parties N.
 * - Round 1: each dealer i computes `w_i = λ_i^D·x_i` (so `Σ w_i = x`), deals a Feldman
 *   sharing of `w_i` with a fresh polynomial of degree t_new − 1 and broadcasts
 *   `digest(old share set) ‖ C'_i`; point-to-point (encrypted by the transport): `g_i(j)` to
 *   each new party j.
 * - Round 2 (echo): everyone checks that each dealer agrees on the old share set, that
 *   `C'_{i,0} = λ_i·X_i` (the dealer re-shares its real share, nothing else), and new parties
 *   Feldman-check their shares — each failure names the dealer. New party j outputs
 *   `x'_j = Σ_i g_i(j)`, `X'_k = Σ_i Σ_m k^m·C'_{i,m}`; `X` and the chain code are unchanged.
 *
 * A party index is a share index: an old party keeps its old index, a new party's session index
 * becomes its share index in the new set, so a new member takes an index no dealer uses.
 * Refresh is a reshare from all members to the same members with the same threshold.
 * New members that hold no old share must be given the old share set's public part (from the
 * platform's record); dealers use their own.
 * @module
 */
import { ByteReader, ByteWriter, constantTimeEqual, wipe } from './bytes.js';
import {
  defaultRandom,
  type CurveName,
  type CurveSuite,
  type GroupPoint,
  type RandomSource,
} from './curve-suite.js';
import { MpcError } from './errors.js';
import {
  evaluateCommitments,
  evaluatePolynomial,
  samplePolynomial,
  verifyShare,
  wipePolynomial,
} from './feldman-vss.js';
import { curveFromProtocol } from './frost-dkg.js';
import { frostHasher, frostProtocolIds, sessionContext } from './frost-ciphersuite.js';
import {
  checkKeyShare,
  checkPublicShareSet,
  encodePublicShareSet,
  exportKeyShare,
  importKeyShare,
  lagrange,
  publicShareSet,
  type CheckedShareSet,
  type KeyShare,
  type PublicShareSet,
} from './key-share.js';
import { assertThreshold, normalizeParties } from './party-set.js';
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

/** Parameters of {@link reshare}. */
export interface ReshareParams {
  /** Session id, 16..64 bytes, unique per session. */
  readonly sid: Uint8Array;
  /** Old parties that re-deal their shares (at least the old threshold). */
  readonly dealers: readonly number[];
  /** Members of the new share set. */
  readonly receivers: readonly number[];
  /** Threshold of the new share set. */
  readonly threshold: number;
  /** My index. */
  readonly me: number;
  /** My old key share: required if I am a dealer. */
  readonly keyShare?: KeyShare;
  /** The old share set's public part: required if I am not a dealer. */
  readonly shareSet?: PublicShareSet;
  /** Randomness; tests only. */
  readonly random?: RandomSource;
}

/** Parameters of {@link refresh}. */
export interface RefreshParams {
  readonly sid: Uint8Array;
  readonly keyShare: KeyShare;
  readonly random?: RandomSource;
}

/** Outcome of a reshare for one party: its new key share, or null for a dealer that leaves. */
export interface ReshareResult {
  readonly keyShare: KeyShare | null;
}

interface ReshareConfig {
  readonly dealers: readonly number[];
  readonly receivers: readonly number[];
  readonly threshold: number;
  readonly old: PublicShareSet;
}

class FrostReshare implements RoundProtocol<ReshareResult> {
  readonly rounds = 2;
  readonly confirmRound = 2;
  private readonly checked: CheckedShareSet;
  private readonly suite: CurveSuite;
  private readonly oldDigest: Uint8Array;
  private readonly isDealer: boolean;
  private readonly isReceiver: boolean;

  constructor(
    private readonly header: SessionHeader,
    private readonly cfg: ReshareConfig,
    private coefficients: bigint[],
    private pending: KeyShare | null | undefined,
    private done: boolean,
  ) {
    this.checked = checkPublicShareSet(cfg.old, 'ERR_MPC_INVALID_PARAMS');
    this.suite = this.checked.suite;
    this.oldDigest = frostHasher.hash(
      'reshare/old',
      ...this.context(),
      encodePublicShareSet(cfg.old),
    );
    this.isDealer = cfg.dealers.includes(header.me);
    this.isReceiver = cfg.receivers.includes(header.me);
  }

  private context(): Uint8Array[] {
    return sessionContext(this.header.protocol, this.header.sid);
  }

  private get commitments(): GroupPoint[] {
    return this.coefficients.map((a) => this.suite.G.multiply(a));
  }

  expect(round: number): Expectation {
    const others = this.header.parties.filter((p) => p !== this.header.me);
    if (round === 2) return { broadcastFrom: others, p2pFrom: [] };
    const dealers = this.cfg.dealers.filter((p) => p !== this.header.me);
    return { broadcastFrom: dealers, p2pFrom: this.isReceiver ? dealers : [] };
  }

  start(): Outgoing[] {
    if (!this.isDealer) return [];
    const { suite } = this;
    const w = new ByteWriter().raw(this.oldDigest);
    for (const C of this.commitments) w.raw(C.toBytes());
    const out: Outgoing[] = [{ to: 'broadcast', payload: w.finish() }];
    for (const j of this.cfg.receivers)
      if (j !== this.header.me)
        out.push({
          to: j,
          payload: suite.encodeScalar(evaluatePolynomial(suite, this.coefficients, j)),
        });
    return out;
  }

  private decodeDeal(from: number, payload: Uint8Array): { digest: Uint8Array; C: GroupPoint[] } {
    const r = new ByteReader(payload, 'reshare deal', from);
    const digest = r.take(32);
    const C: GroupPoint[] = [];
    for (let k = 0; k < this.cfg.threshold; k++)
      C.push(this.suite.decodePoint(r.take(this.suite.pointLength), from));
    r.end();
    return { digest, C };
  }

  checkPayload(round: number, kind: 'broadcast' | 'p2p', from: number, payload: Uint8Array): void {
    if (round === 2) {
      if (payload.length !== 0)
        throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail: 'confirmation' });
    } else if (kind === 'broadcast') this.decodeDeal(from, payload);
    else {
      if (payload.length !== 32)
        throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail: 'share' });
      this.suite.decodeScalar(payload, from, true);
    }
  }

  advance(round: number, input: RoundMessages): Outgoing[] {
    if (round === 2) {
      if (this.pending === undefined) throw new MpcError('ERR_MPC_SESSION_STATE');
      this.done = true;
      return [];
    }
    const { suite, header, cfg } = this;
    const me = header.me;
    const deals = new Map<number, GroupPoint[]>();
    let share = 0n;
    for (const i of cfg.dealers) {
      let C: GroupPoint[];
      let fromI: bigint | undefined;
      if (i === me) {
        C = this.commitments;
        fromI = this.isReceiver ? evaluatePolynomial(suite, this.coefficients, me) : undefined;
      } else {
        const d = this.decodeDeal(i, input.broadcast.get(i) as Uint8Array);
        if (!constantTimeEqual(d.digest, this.oldDigest))
          throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', {
            culprit: i,
            detail: 'old share set',
          });
        C = d.C;
        // The dealer must re-share exactly its Lagrange-weighted share: C'_{i,0} = λ_i·X_i.
        const expected = (this.checked.verificationShares.get(i) as GroupPoint).multiplyUnsafe(
          lagrange(suite, i, cfg.dealers),
        );
        if (!(C[0] as GroupPoint).equals(expected))
          throw new MpcError('ERR_MPC_INVALID_SHARE', { culprit: i, detail: 'constant term' });
        if (this.isReceiver) {
          fromI = suite.decodeScalar(input.p2p.get(i) as Uint8Array, i, true);
          verifyShare(suite, C, me, fromI, i);
        }
      }
      deals.set(i, C);
      if (fromI !== undefined) share = suite.mod(share + fromI);
    }
    if (this.isReceiver) {
      const C: GroupPoint[] = [];
      for (let k = 0; k < cfg.threshold; k++) {
        let acc = suite.ZERO;
        for (const i of cfg.dealers) acc = acc.add((deals.get(i) as GroupPoint[])[k] as GroupPoint);
        C.push(acc);
      }
      if (!(C[0] as GroupPoint).equals(this.checked.publicKey))
        throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', { detail: 'group key changed' });
      const verificationShares = cfg.receivers.map((j) => evaluateCommitments(suite, C, j));
      if (verificationShares.some((v) => v.is0()) || share === 0n)
        throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', { detail: 'degenerate share' });
      this.pending = {
        curve: cfg.old.curve,
        threshold: cfg.threshold,
        parties: [...cfg.receivers],
        index: me,
        signingShare: suite.encodeScalar(share),
        publicKey: cfg.old.publicKey.slice(),
        chainCode: cfg.old.chainCode.slice(),
        verificationShares: verificationShares.map((v) => v.toBytes()),
      };
      share = 0n;
      checkKeyShare(this.pending);
    } else this.pending = null;
    wipePolynomial({ coefficients: this.coefficients, commitments: [] });
    this.coefficients = [];
    return [{ to: 'broadcast', payload: new Uint8Array(0) }];
  }

  result(): ReshareResult | undefined {
    return this.done && this.pending !== undefined ? { keyShare: this.pending } : undefined;
  }

  encodeState(): Uint8Array {
    const { cfg, suite } = this;
    const w = new ByteWriter().u8(this.done ? 1 : 0).u8(cfg.threshold);
    w.u8(cfg.dealers.length);
    for (const d of cfg.dealers) w.u16(d);
    w.u8(cfg.receivers.length);
    for (const d of cfg.receivers) w.u16(d);
    w.bytes(encodePublicShareSetFull(cfg.old));
    w.u8(this.coefficients.length);
    for (const a of this.coefficients) w.raw(suite.encodeScalar(a));
    if (this.pending === undefined) w.u8(0);
    else if (this.pending === null) w.u8(1);
    else w.u8(2).bytes(exportKeyShare(this.pending));
    return w.finish();
  }

  static load(header: SessionHeader, state: Uint8Array): RoundProtocol<ReshareResult> {
    const r = new ByteReader(state, 'reshare state');
    const done = r.u8() === 1;
    const threshold = r.u8();
    const dealers: number[] = [];
    for (let n = r.u8(); n > 0; n--) dealers.push(r.u16());
    const receivers: number[] = [];
    for (let n = r.u8(); n > 0; n--) receivers.push(r.u16());
    const old = decodePublicShareSetFull(r.bytes(8192));
    const curve = curveFromProtocol(
      header.protocol,
      header.protocol.includes('/refresh/') ? 'refresh' : 'reshare',
    );
    if (old.curve !== curve) r.fail('curve');
    const suite = checkPublicShareSet(old, 'ERR_MPC_INVALID_PARAMS').suite;
    const coefficients: bigint[] = [];
    for (let n = r.u8(); n > 0; n--) coefficients.push(suite.decodeScalar(r.take(32)));
    const tag = r.u8();
    const pending = tag === 0 ? undefined : tag === 1 ? null : importKeyShare(r.bytes(4096));
    r.end();
    const cfg = makeConfig(header, dealers, receivers, threshold, old);
    if (done && pending !== undefined)
      return finishedProtocol(2, 2, { keyShare: pending }, state.slice());
    return new FrostReshare(header, cfg, coefficients, pending, done);
  }

  wipe(): void {
    wipePolynomial({ coefficients: this.coefficients, commitments: [] });
    this.coefficients = [];
    if (this.pending) wipe(this.pending.signingShare);
    this.pending = undefined;
  }
}

/** Public share set encoding with its curve (the digest encoding omits nothing, but is per curve). */
function encodePublicShareSetFull(p: PublicShareSet): Uint8Array {
  return new ByteWriter().ascii(p.curve).bytes(encodePublicShareSet(p)).finish();
}

function decodePublicShareSetFull(bytes: Uint8Array): PublicShareSet {
  const r = new ByteReader(bytes, 'share set');
  const curve = r.ascii();
  if (curve !== 'ed25519' && curve !== 'secp256k1') r.fail('curve');
  const inner = new ByteReader(r.bytes(8192), 'share set');
  r.end();
  inner.u8();
  const threshold = inner.u8();
  const n = inner.u8();
  const parties: number[] = [];
  for (let i = 0; i < n; i++) parties.push(inner.u16());
  const P = curve === 'ed25519' ? 32 : 33;
  const publicKey = inner.take(P);
  const chainCode = inner.take(32);
  const verificationShares: Uint8Array[] = [];
  for (let i = 0; i < n; i++) verificationShares.push(inner.take(P));
  inner.end();
  return {
    curve: curve as CurveName,
    threshold,
    parties,
    publicKey,
    chainCode,
    verificationShares,
  };
}

function makeConfig(
  header: SessionHeader,
  dealersIn: readonly number[],
  receiversIn: readonly number[],
  threshold: number,
  old: PublicShareSet,
): ReshareConfig {
  const dealers = normalizeParties(dealersIn, 'dealers');
  const receivers = normalizeParties(receiversIn, 'receivers');
  assertThreshold(threshold, receivers.length);
  if (dealers.length < old.threshold)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: 'fewer dealers than the old threshold',
    });
  for (const d of dealers)
    if (!old.parties.includes(d))
      throw new MpcError('ERR_MPC_INVALID_PARTY', {
        culprit: d,
        detail: 'dealer not in the old share set',
      });
  const union = normalizeParties([...new Set([...dealers, ...receivers])]);
  if (union.length !== header.parties.length || union.some((p, i) => p !== header.parties[i]))
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: 'session parties must be dealers and receivers',
    });
  return { dealers, receivers, threshold, old };
}

function create(protocol: string, params: ReshareParams): Session<ReshareResult> {
  const union = [...new Set([...(params.dealers ?? []), ...(params.receivers ?? [])])];
  const header = makeHeader(protocol, params.sid, union, params.me);
  const isDealer = params.dealers.includes(params.me);
  let old: PublicShareSet;
  let secret: bigint | undefined;
  if (isDealer) {
    if (params.keyShare === undefined)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'dealer needs its key share' });
    if (params.keyShare.index !== params.me)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'key share index is not me' });
    secret = checkKeyShare(params.keyShare).secret;
    old = publicShareSet(params.keyShare);
  } else {
    if (params.shareSet === undefined)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'new party needs the old share set' });
    old = publicShareSet(params.shareSet);
  }
  if (
    protocol !== frostProtocolIds.reshare(old.curve) &&
    protocol !== frostProtocolIds.refresh(old.curve)
  )
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'curve' });
  const cfg = makeConfig(header, params.dealers, params.receivers, params.threshold, old);
  const suite = checkPublicShareSet(old, 'ERR_MPC_INVALID_PARAMS').suite;
  let coefficients: bigint[] = [];
  if (secret !== undefined) {
    const w = suite.mod(lagrange(suite, params.me, cfg.dealers) * secret);
    coefficients = samplePolynomial(
      suite,
      cfg.threshold,
      w,
      params.random ?? defaultRandom,
    ).coefficients;
    secret = 0n;
  }
  return Session.create(header, new FrostReshare(header, cfg, coefficients, undefined, false));
}

/** Creates a reshare session (old share set → new party set, same group key and chain code). */
export function reshare(params: ReshareParams): Session<ReshareResult> {
  const curve = params.keyShare?.curve ?? params.shareSet?.curve;
  if (curve === undefined)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'keyShare or shareSet required' });
  return create(frostProtocolIds.reshare(curve), params);
}

/** Creates a refresh session: all members re-share to themselves; same key, new shares. */
export function refresh(params: RefreshParams): Session<ReshareResult> {
  const { keyShare } = params;
  const base = {
    sid: params.sid,
    dealers: keyShare.parties,
    receivers: keyShare.parties,
    threshold: keyShare.threshold,
    me: keyShare.index,
    keyShare,
  };
  return create(
    frostProtocolIds.refresh(keyShare.curve),
    params.random === undefined ? base : { ...base, random: params.random },
  );
}

/** Loader for {@link Session.restore}. */
export const loadReshare = (
  header: SessionHeader,
  state: Uint8Array,
): RoundProtocol<ReshareResult> => FrostReshare.load(header, state);
