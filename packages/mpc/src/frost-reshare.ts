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
 *   `digest ‖ C'_i`, with `digest = H(ctx, old share set, D, N, t_new)`; point-to-point
 *   (encrypted by the transport): `g_i(j)` to each new party j.
 * - Round 2 (echo, and `digest` again from every party): everyone checks that each party
 *   agrees on the old share set and on (D, N, t_new) — else `ERR_MPC_CONTEXT_MISMATCH`, that
 *   `C'_{i,0} = λ_i·X_i` (the dealer re-shares its real share, nothing else), and new parties
 *   Feldman-check their shares — each failure names the dealer. New party j outputs
 *   `x'_j = Σ_i g_i(j)`, `X'_k = Σ_i Σ_m k^m·C'_{i,m}`; `X` and the chain code are unchanged.
 *
 * A party index is a share index: an old party keeps its old index, a new party's session index
 * becomes its share index in the new set, so a new member takes an index no dealer uses.
 * Refresh is a reshare from all members to the same members with the same threshold.
 *
 * The shares a dealer sends in round 1 leave before anyone confirms the parameters, so the
 * library enforces the key model on its own parameters: t_new = |N| (n-of-n) and exactly one new
 * member (reshare) or N = D (refresh), unless the caller opts out by name. With t_new < |N|, or
 * with several receivers that are not dealers, colluding receivers (cloud-1 and cloud-2) could
 * collect t_new evaluations of an honest dealer's polynomial and rebuild its share.
 * New members that hold no old share must be given the old share set's public part (from the
 * platform's record); dealers use their own.
 * @module
 */
import { equalBytes } from '@noble/curves/utils.js';
import { ByteReader, ByteWriter, constantTimeEqual, u16be, wipe } from './bytes.js';
import {
  defaultRandom,
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
import { assertKeyModelThreshold, curveFromProtocol } from './frost-dkg.js';
import { frostHasher, frostProtocolIds, sessionContext } from './frost-ciphersuite.js';
import {
  decodePublicShareSet,
  encodePublicShareSet,
  exportKeyShare,
  lagrange,
  publicShareSet,
  redactKeyShare,
  type CheckedShareSet,
  type KeyShare,
  type PublicShareSet,
} from './key-share.js';
import { checkKeyShareCached, checkShareSet, importKeyShare } from './frost-share-set.js';
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

/** Parameters of {@link reshare}. */
export interface ReshareParams {
  /** Session id, 16..64 bytes, unique per session. */
  readonly sid: Uint8Array;
  /**
   * Old parties that re-deal their shares (at least the old threshold). `dealers`,
   * `receivers` and `threshold` must come from the platform-signed roster (ARCHITECTURE.md §3,
   * §5): a dealer sends the new parties its weighted share in round 1, so whoever chooses these
   * parameters chooses who can rebuild it. Parties given different values abort.
   */
  readonly dealers: readonly number[];
  /**
   * Members of the new share set. By default exactly one of them is not a dealer (the new
   * signer of ARCHITECTURE.md §3, "Next signer"), unless {@link allowAnyReceiverSet}.
   */
  readonly receivers: readonly number[];
  /**
   * Threshold of the new share set: must equal `receivers.length` (n-of-n key model) unless
   * {@link allowThresholdBelowPartyCount}.
   */
  readonly threshold: number;
  /** My index. */
  readonly me: number;
  /** My old key share: required if I am a dealer. */
  readonly keyShare?: KeyShare;
  /** The old share set's public part: required if I am not a dealer. */
  readonly shareSet?: PublicShareSet;
  /**
   * Allow a new threshold below the number of receivers. Off by default: with t < n, t
   * receivers together can rebuild every dealer's weighted share, hence the key.
   */
  readonly allowThresholdBelowPartyCount?: boolean;
  /**
   * Allow any receiver set (no new member, or several). Off by default: receivers that are all
   * old members, or several new members, let colluding receivers collect enough evaluations
   * of an honest dealer's polynomial to rebuild its share.
   */
  readonly allowAnyReceiverSet?: boolean;
}

/** Parameters of {@link refresh}. */
export interface RefreshParams {
  readonly sid: Uint8Array;
  /** My key share; the refresh runs among all its parties with its threshold. */
  readonly keyShare: KeyShare;
  /** Needed to refresh a share set whose threshold is below its party count. */
  readonly allowThresholdBelowPartyCount?: boolean;
}

/** Test-only options, reachable through `test-hooks.ts` only. */
export interface ReshareTestOptions {
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
  readonly allowThresholdBelowPartyCount: boolean;
  readonly allowAnyReceiverSet: boolean;
}

const DIGEST_LENGTH = 32;

class FrostReshare implements RoundProtocol<ReshareResult> {
  readonly rounds = 2;
  readonly confirmRound = 2;
  readonly #header: SessionHeader;
  readonly #cfg: ReshareConfig;
  readonly #checked: CheckedShareSet;
  readonly #suite: CurveSuite;
  /** Digest of the old share set and of (dealers, receivers, threshold), in every broadcast. */
  readonly #digest: Uint8Array;
  readonly #isDealer: boolean;
  readonly #isReceiver: boolean;
  /** My dealing polynomial (constant term λ_i·x_i) until round 1 is consumed (secret). */
  #coefficients: bigint[];
  /** My new key share, or null for a leaving dealer (secret). */
  #pending: KeyShare | null | undefined;
  #done: boolean;
  /** `a_k·G` of my dealing polynomial, computed once (public; start and round 1 use them). */
  #myCommitmentPoints: GroupPoint[] | undefined;
  /**
   * Round-1 deals as decoded and validated by `checkPayload` on arrival, with the payload they
   * came from, so that round 1 does not decode (and subgroup-check) them again (public).
   */
  readonly #deals = new Map<number, { payload: Uint8Array; C: GroupPoint[] }>();

  constructor(
    header: SessionHeader,
    cfg: ReshareConfig,
    coefficients: bigint[],
    pending: KeyShare | null | undefined,
    done: boolean,
    myCommitments?: GroupPoint[],
  ) {
    this.#header = header;
    this.#cfg = cfg;
    this.#coefficients = coefficients;
    this.#pending = pending;
    this.#done = done;
    this.#myCommitmentPoints = myCommitments;
    this.#checked = checkShareSet(cfg.old, 'ERR_MPC_INVALID_PARAMS');
    this.#suite = this.#checked.suite;
    const list = (ps: readonly number[]): Uint8Array =>
      Uint8Array.from(ps.flatMap((p) => [...u16be(p)]));
    this.#digest = frostHasher.hash(
      'reshare/old',
      ...sessionContext(header.protocol, header.sid),
      encodePublicShareSet(cfg.old),
      list(cfg.dealers),
      list(cfg.receivers),
      Uint8Array.of(cfg.threshold),
    );
    this.#isDealer = cfg.dealers.includes(header.me);
    this.#isReceiver = cfg.receivers.includes(header.me);
  }

  #commitments(): GroupPoint[] {
    return (this.#myCommitmentPoints ??= this.#coefficients.map((a) => this.#suite.G.multiply(a)));
  }

  /** Dealer i's commitments: as validated by checkPayload if the bytes are the same, else decoded. */
  #dealOf(i: number, payload: Uint8Array): GroupPoint[] {
    const seen = this.#deals.get(i);
    return seen !== undefined && equalBytes(seen.payload, payload)
      ? seen.C
      : this.#decodeDeal(i, payload).C;
  }

  expect(round: number): Expectation {
    const others = this.#header.parties.filter((p) => p !== this.#header.me);
    if (round === 2) return { broadcastFrom: others, p2pFrom: [] };
    const dealers = this.#cfg.dealers.filter((p) => p !== this.#header.me);
    return { broadcastFrom: dealers, p2pFrom: this.#isReceiver ? dealers : [] };
  }

  start(): Outgoing[] {
    if (!this.#isDealer) return [];
    const suite = this.#suite;
    const w = new ByteWriter().raw(this.#digest);
    for (const C of this.#commitments()) w.raw(C.toBytes());
    const out: Outgoing[] = [{ to: 'broadcast', payload: w.finish() }];
    for (const j of this.#cfg.receivers)
      if (j !== this.#header.me)
        out.push({
          to: j,
          payload: suite.encodeScalar(evaluatePolynomial(suite, this.#coefficients, j)),
        });
    return out;
  }

  #decodeDeal(from: number, payload: Uint8Array): { C: GroupPoint[] } {
    const r = new ByteReader(payload, 'reshare deal', from);
    const digest = r.take(DIGEST_LENGTH);
    // Parameters first: a deal of another degree is a disagreement, not a malformed message.
    this.#checkDigest(from, digest);
    const C: GroupPoint[] = [];
    for (let k = 0; k < this.#cfg.threshold; k++)
      C.push(this.#suite.decodePoint(r.take(this.#suite.pointLength), from));
    r.end();
    return { C };
  }

  #checkDigest(from: number, digest: Uint8Array): void {
    if (!constantTimeEqual(digest, this.#digest))
      throw new MpcError('ERR_MPC_CONTEXT_MISMATCH', {
        culprit: from,
        detail: 'old share set, dealers, receivers or threshold',
      });
  }

  checkPayload(round: number, kind: 'broadcast' | 'p2p', from: number, payload: Uint8Array): void {
    if (round === 2) {
      if (payload.length !== DIGEST_LENGTH)
        throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail: 'confirmation' });
      this.#checkDigest(from, payload);
    } else if (kind === 'broadcast')
      this.#deals.set(from, { payload: payload.slice(), C: this.#decodeDeal(from, payload).C });
    else {
      if (payload.length !== 32)
        throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail: 'share' });
      this.#suite.decodeScalar(payload, from, true);
    }
  }

  advance(round: number, input: RoundMessages): Outgoing[] {
    if (round === 2) {
      if (this.#pending === undefined) throw new MpcError('ERR_MPC_SESSION_STATE');
      this.#done = true;
      return [];
    }
    const suite = this.#suite;
    const cfg = this.#cfg;
    const me = this.#header.me;
    const deals = new Map<number, GroupPoint[]>();
    let share = 0n;
    for (const i of cfg.dealers) {
      let C: GroupPoint[];
      let fromI: bigint | undefined;
      if (i === me) {
        C = this.#commitments();
        fromI = this.#isReceiver ? evaluatePolynomial(suite, this.#coefficients, me) : undefined;
      } else {
        C = this.#dealOf(i, input.broadcast.get(i) as Uint8Array);
        // The dealer must re-share exactly its Lagrange-weighted share: C'_{i,0} = λ_i·X_i.
        const expected = (this.#checked.verificationShares.get(i) as GroupPoint).multiplyUnsafe(
          lagrange(suite, i, cfg.dealers),
        );
        if (!(C[0] as GroupPoint).equals(expected))
          throw new MpcError('ERR_MPC_INVALID_SHARE', { culprit: i, detail: 'constant term' });
        if (this.#isReceiver) {
          fromI = suite.decodeScalar(input.p2p.get(i) as Uint8Array, i, true);
          verifyShare(suite, C, me, fromI, i);
        }
      }
      deals.set(i, C);
      if (fromI !== undefined) share = suite.mod(share + fromI);
    }
    if (this.#isReceiver) {
      const C: GroupPoint[] = [];
      for (let k = 0; k < cfg.threshold; k++) {
        let acc = suite.ZERO;
        for (const i of cfg.dealers) acc = acc.add((deals.get(i) as GroupPoint[])[k] as GroupPoint);
        C.push(acc);
      }
      if (!(C[0] as GroupPoint).equals(this.#checked.publicKey))
        throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', { detail: 'group key changed' });
      const verificationShares = cfg.receivers.map((j) => evaluateCommitments(suite, C, j));
      if (verificationShares.some((v) => v.is0()) || share === 0n)
        throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', { detail: 'degenerate share' });
      this.#pending = redactKeyShare({
        curve: cfg.old.curve,
        threshold: cfg.threshold,
        parties: [...cfg.receivers],
        index: me,
        signingShare: suite.encodeScalar(share),
        publicKey: cfg.old.publicKey.slice(),
        chainCode: cfg.old.chainCode.slice(),
        verificationShares: verificationShares.map((v) => v.toBytes()),
      });
      share = 0n;
      checkKeyShareCached(this.#pending);
    } else this.#pending = null;
    wipePolynomial({ coefficients: this.#coefficients, commitments: [] });
    this.#coefficients = [];
    this.#deals.clear();
    // Round 2 repeats the digest: every party, new members included, confirms the parameters.
    return [{ to: 'broadcast', payload: this.#digest.slice() }];
  }

  result(): ReshareResult | undefined {
    return this.#done && this.#pending !== undefined ? { keyShare: this.#pending } : undefined;
  }

  encodeState(): Uint8Array {
    const cfg = this.#cfg;
    const suite = this.#suite;
    const flags = (cfg.allowThresholdBelowPartyCount ? 1 : 0) | (cfg.allowAnyReceiverSet ? 2 : 0);
    const w = new ByteWriter()
      .u8(this.#done ? 1 : 0)
      .u8(flags)
      .u8(cfg.threshold);
    w.u8(cfg.dealers.length);
    for (const d of cfg.dealers) w.u16(d);
    w.u8(cfg.receivers.length);
    for (const d of cfg.receivers) w.u16(d);
    w.bytes(encodePublicShareSet(cfg.old));
    w.u8(this.#coefficients.length);
    for (const a of this.#coefficients) w.raw(suite.encodeScalar(a));
    if (this.#pending === undefined) w.u8(0);
    else if (this.#pending === null) w.u8(1);
    else w.u8(2).bytes(exportKeyShare(this.#pending));
    return w.finish();
  }

  static load(header: SessionHeader, state: Uint8Array): RoundProtocol<ReshareResult> {
    const r = new ByteReader(state, 'reshare state');
    const done = r.u8();
    if (done > 1) r.fail('done flag');
    const flags = r.u8();
    if (flags > 3) r.fail('flags');
    const threshold = r.u8();
    const dealers: number[] = [];
    for (let n = r.u8(); n > 0; n--) dealers.push(r.u16());
    const receivers: number[] = [];
    for (let n = r.u8(); n > 0; n--) receivers.push(r.u16());
    const old = decodePublicShareSet(r.bytes(8192));
    const kind = header.protocol.includes('/refresh/') ? 'refresh' : 'reshare';
    const curve = curveFromProtocol(header.protocol, kind);
    if (old.curve !== curve) r.fail('curve');
    const suite = checkShareSet(old, 'ERR_MPC_INVALID_PARAMS').suite;
    const coefficients: bigint[] = [];
    for (let n = r.u8(); n > 0; n--) coefficients.push(suite.decodeScalar(r.take(32)));
    const tag = r.u8();
    if (tag > 2) r.fail('result tag');
    const pending = tag === 0 ? undefined : tag === 1 ? null : importKeyShare(r.bytes(4096));
    r.end();
    const cfg = makeConfig(header, kind, dealers, receivers, threshold, old, {
      allowThresholdBelowPartyCount: (flags & 1) !== 0,
      allowAnyReceiverSet: (flags & 2) !== 0,
    });
    const dealing = cfg.dealers.includes(header.me) && pending === undefined;
    if (coefficients.length !== (dealing ? cfg.threshold : 0)) r.fail('coefficients');
    if (done === 1 && pending !== undefined)
      return finishedProtocol(2, 2, { keyShare: pending }, state.slice());
    return new FrostReshare(header, cfg, coefficients, pending, done === 1);
  }

  wipe(): void {
    wipePolynomial({ coefficients: this.#coefficients, commitments: [] });
    this.#coefficients = [];
    this.#deals.clear();
    if (this.#pending) wipe(this.#pending.signingShare);
    this.#pending = undefined;
  }

  toJSON(): Record<string, unknown> {
    return {
      protocol: this.#header.protocol,
      me: this.#header.me,
      dealers: [...this.#cfg.dealers],
      receivers: [...this.#cfg.receivers],
      threshold: this.#cfg.threshold,
      done: this.#done,
    };
  }

  [INSPECT](_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string): string {
    return inspectSummary('FrostReshare', this.toJSON(), options, inspect);
  }
}

/**
 * Validates the parameters against the old share set and the key model:
 * - t_new = |receivers| unless `allowThresholdBelowPartyCount`;
 * - reshare: exactly one receiver is not a dealer unless `allowAnyReceiverSet`;
 * - refresh: dealers = receivers = the old parties, same threshold.
 */
function makeConfig(
  header: SessionHeader,
  kind: 'reshare' | 'refresh',
  dealersIn: readonly number[],
  receiversIn: readonly number[],
  threshold: number,
  old: PublicShareSet,
  options: { allowThresholdBelowPartyCount: boolean; allowAnyReceiverSet: boolean },
): ReshareConfig {
  const dealers = normalizeParties(dealersIn, 'dealers');
  const receivers = normalizeParties(receiversIn, 'receivers');
  assertKeyModelThreshold(
    threshold,
    receivers.length,
    options.allowThresholdBelowPartyCount,
    'receivers',
  );
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
  const newMembers = receivers.filter((j) => !dealers.includes(j));
  if (kind === 'refresh') {
    const same = (a: readonly number[], b: readonly number[]): boolean =>
      a.length === b.length && a.every((v, i) => v === b[i]);
    if (!same(dealers, receivers) || !same(dealers, old.parties) || threshold !== old.threshold)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', {
        detail: 'refresh: dealers and receivers are the share set, same threshold',
      });
  } else if (newMembers.length !== 1 && !options.allowAnyReceiverSet)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: 'exactly one receiver must be new (set allowAnyReceiverSet to relax)',
    });
  const union = normalizeParties([...new Set([...dealers, ...receivers])]);
  if (union.length !== header.parties.length || union.some((p, i) => p !== header.parties[i]))
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: 'session parties must be dealers and receivers',
    });
  return {
    dealers,
    receivers,
    threshold,
    old: publicShareSet(old),
    allowThresholdBelowPartyCount: options.allowThresholdBelowPartyCount,
    allowAnyReceiverSet: options.allowAnyReceiverSet,
  };
}

function create(
  kind: 'reshare' | 'refresh',
  params: ReshareParams,
  test: ReshareTestOptions,
): Session<ReshareResult> {
  const union = [...new Set([...(params.dealers ?? []), ...(params.receivers ?? [])])];
  const curve = params.keyShare?.curve ?? params.shareSet?.curve;
  if (curve !== 'ed25519' && curve !== 'secp256k1')
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'keyShare or shareSet required' });
  const protocol = frostProtocolIds[kind](curve);
  const header = makeHeader(protocol, params.sid, union, params.me);
  const isDealer = params.dealers.includes(params.me);
  let old: PublicShareSet;
  let secret: bigint | undefined;
  if (isDealer) {
    if (params.keyShare === undefined)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'dealer needs its key share' });
    if (params.keyShare.index !== params.me)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'key share index is not me' });
    secret = checkKeyShareCached(params.keyShare).secret;
    old = publicShareSet(params.keyShare);
  } else {
    if (params.shareSet === undefined)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'new party needs the old share set' });
    old = publicShareSet(params.shareSet);
  }
  if (old.curve !== curve) throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'curve' });
  const cfg = makeConfig(header, kind, params.dealers, params.receivers, params.threshold, old, {
    allowThresholdBelowPartyCount: params.allowThresholdBelowPartyCount === true,
    allowAnyReceiverSet: params.allowAnyReceiverSet === true,
  });
  const suite = checkShareSet(old, 'ERR_MPC_INVALID_PARAMS').suite;
  let coefficients: bigint[] = [];
  let commitments: GroupPoint[] | undefined;
  if (secret !== undefined) {
    // Non-constant-time BigInt arithmetic on a secret (docs/constant-time.md).
    const w = suite.mod(lagrange(suite, params.me, cfg.dealers) * secret);
    const poly = samplePolynomial(suite, cfg.threshold, w, test.random ?? defaultRandom);
    coefficients = poly.coefficients;
    commitments = [...poly.commitments];
    secret = 0n;
  }
  return Session.create(
    header,
    new FrostReshare(header, cfg, coefficients, undefined, false, commitments),
  );
}

/**
 * Creates a reshare session (old share set → new party set, same group key and chain code).
 * `dealers`, `receivers` and `threshold` must come from the platform-signed roster; by default
 * t = |receivers| and exactly one receiver is new (ARCHITECTURE.md §3, "Next signer").
 */
export function reshare(params: ReshareParams): Session<ReshareResult> {
  return create('reshare', params, {});
}

function refreshParams(params: RefreshParams): ReshareParams {
  const { keyShare } = params;
  return {
    sid: params.sid,
    dealers: keyShare.parties,
    receivers: keyShare.parties,
    threshold: keyShare.threshold,
    me: keyShare.index,
    keyShare,
    allowThresholdBelowPartyCount: params.allowThresholdBelowPartyCount === true,
  };
}

/** Creates a refresh session: all members re-share to themselves; same key, new shares. */
export function refresh(params: RefreshParams): Session<ReshareResult> {
  return create('refresh', refreshParams(params), {});
}

/** Test-only: {@link reshare} with injected randomness. */
export function reshareForTesting(
  params: ReshareParams,
  test: ReshareTestOptions,
): Session<ReshareResult> {
  return create('reshare', params, test);
}

/** Test-only: {@link refresh} with injected randomness. */
export function refreshForTesting(
  params: RefreshParams,
  test: ReshareTestOptions,
): Session<ReshareResult> {
  return create('refresh', refreshParams(params), test);
}

/** Loader for {@link Session.restore}. */
export const loadReshare = (
  header: SessionHeader,
  state: Uint8Array,
): RoundProtocol<ReshareResult> => FrostReshare.load(header, state);
