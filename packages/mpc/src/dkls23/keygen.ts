/**
 * DKLs23 key generation, reshare and refresh (specs/dkls23.md, "DKG" and "Derivation, reshare,
 * refresh"; issue 4, deliverables 2 and 4). One protocol with dealers D and receivers N:
 *
 * - DKG: D = N = all parties; dealer i shares a random secret with a random polynomial f_i of
 *   degree t − 1 (Pedersen DKG with Feldman VSS, commit-then-reveal against bias — the FROST DKG
 *   of this package, `frost-dkg.ts`, with DKLs23's extra pairwise state).
 * - Reshare: D ⊆ old set (|D| ≥ t_old) re-deal w_i = λ_i·x_i (checked: C_{i,0} = λ_i·X_i);
 *   N is the new set. X and the chain code are unchanged. Refresh = reshare to the same parties.
 *
 * In both, the receivers run fresh zero-share seeds and fresh MR19 base OTs for every ordered
 * pair, so a new share set never reuses an OT setup.
 *
 * Key model (ARCHITECTURE.md §3; review 2026-11-24, C3 and H1). The parameters decide who can
 * rebuild the key, and dealers send f_i(j) in round 2, so they are enforced at creation and again
 * on restore, as in FROST (`frost-dkg.ts`, `frost-reshare.ts` `makeConfig`): t = |N| unless
 * `allowThresholdBelowPartyCount`; a reshare has exactly one receiver that is not a dealer unless
 * `allowAnyReceiverSet`; a refresh has D = N = the old parties and t = t_old. With t < |N|, or
 * with several receivers that are not dealers, colluding receivers (cloud-1 and cloud-2) collect
 * t evaluations of an honest dealer's polynomial and interpolate its share (review, appendix C).
 *
 * `ctx` = (protocol, sid, P) with P = H("keygen/params", protocol, sid, D, N, t, options, old
 * share set): every commitment, proof of knowledge, pair session id, seed and transcript hash is
 * bound to the parameters. Rounds, party i:
 * - R1 broadcast (every party): P, then (dealer) com_i = H("com", ctx, i, C_i ‖ e_i, salt) with
 *   e_i the chain-code contribution cc_i (DKG) or the digest of the old share set (reshare). Every
 *   party checks every P on arrival (`ERR_MPC_CONTEXT_MISMATCH`), so parties given different
 *   parameters abort before any share leaves. p2p to receiver j (receiver i): Y for the base OT of
 *   (Alice = j, Bob = i).
 * - R2 broadcast (dealer): the opening and a PoK of a_{i,0}. p2p to receiver j: f_i(j) (dealer
 *   i), the zero-seed contribution and the base-OT receiver message of (Alice = i, Bob = j)
 *   (receiver i).
 * - Local: every opening, PoK, reshare constraint and Feldman share is checked, each failure
 *   naming its dealer; then x_i = Σ f_j(i), X, X_j, chain code H("cc", ctx, cc_1..cc_n), seeds
 *   s_{ij} = H("zero", ctx, lo, hi, z_lo, z_hi), and the base OTs are finished.
 * - R3 broadcast (confirmation, with the session's transcript echo): H(all public outputs) and,
 *   from receivers, a PoK of x_i for X_i. Done when all hashes agree (else the sender is named).
 * @module
 */
import { ByteReader, ByteWriter, constantTimeEqual, u16be, wipe } from '../bytes.js';
import { commit, verifyOpening, COMMITMENT_LENGTH, SALT_LENGTH } from '../commitment.js';
import {
  defaultRandom,
  secp256k1Suite,
  type GroupPoint,
  type RandomSource,
} from '../curve-suite.js';
import { isMpcError, MpcError } from '../errors.js';
import {
  evaluateCommitments,
  evaluatePolynomial,
  samplePolynomial,
  verifyShare,
} from '../feldman-vss.js';
import { assertKeyModelThreshold } from '../frost-dkg.js';
import { label } from '../hash.js';
import {
  checkPublicShareSet,
  encodePublicShareSet,
  lagrange,
  publicShareSet,
  redactKeyShare,
  type PublicShareSet,
} from '../key-share.js';
import { normalizeParties } from '../party-set.js';
import { proofLength, proveKnowledge, verifyKnowledge } from '../proof-of-knowledge.js';
import { INSPECT, inspectSummary } from '../redact.js';
import {
  finishedProtocol,
  makeHeader,
  Session,
  type Expectation,
  type Outgoing,
  type RoundMessages,
  type RoundProtocol,
  type SessionHeader,
} from '../session.js';
import {
  baseOtReceive,
  baseOtSenderFinish,
  baseOtSenderKey,
  BASE_OT_RECEIVER_MESSAGE_LENGTH,
} from './base-ot.js';
import { Dkls23CheckError } from './check-error.js';
import {
  dkls23Hasher,
  dkls23ProtocolIds,
  pairSessionId,
  seededRandom,
  sessionContext,
  u16,
} from './hashing.js';
import {
  checkDkls23KeyShare,
  exportDkls23KeyShare,
  importDkls23KeyShare,
  wipeDkls23KeyShare,
  type Dkls23KeyShare,
  type Dkls23Pair,
} from './key-share.js';

const suite = secp256k1Suite;
const SEED = 32;
const EXTRA = 32;
const POINT = 33;
/** Length of the parameter digest P at the head of every round-1 broadcast. */
const PARAMS_DIGEST = 32;

/** Parameters of {@link dkls23Dkg}. */
export interface Dkls23DkgParams {
  /** Session id, 16..64 bytes, unique per session. */
  readonly sid: Uint8Array;
  /**
   * Share indices of all parties. Must come from the platform-signed roster (ARCHITECTURE.md
   * §3, §5), never from a peer's message: it and `threshold` decide who can rebuild the key.
   */
  readonly parties: readonly number[];
  readonly me: number;
  /**
   * t. The key model is n-of-n (3-of-3 among cloud-1, cloud-2 and the signer), so t must equal
   * `parties.length` unless {@link allowThresholdBelowPartyCount}. From the signed roster.
   */
  readonly threshold: number;
  /**
   * Allow 2 ≤ t < n. Off by default: with t < n, any t parties together hold the key (cloud-1
   * and cloud-2 could sign without the signer's co-signer), which the key model never wants.
   */
  readonly allowThresholdBelowPartyCount?: boolean;
}

/** Parameters of {@link dkls23Reshare}. */
export interface Dkls23ReshareParams {
  readonly sid: Uint8Array;
  /**
   * Old members that re-deal (at least the old threshold). `dealers`, `receivers` and
   * `threshold` must come from the platform-signed roster (ARCHITECTURE.md §3, §5): a dealer sends
   * the receivers evaluations of its weighted share in round 2, so whoever chooses these
   * parameters chooses who can rebuild it. Parties given different values abort in round 1.
   */
  readonly dealers: readonly number[];
  /**
   * Members of the new share set. By default exactly one of them is not a dealer (the new signer
   * of ARCHITECTURE.md §3, "Next signer"), unless {@link allowAnyReceiverSet}.
   */
  readonly receivers: readonly number[];
  /**
   * Threshold of the new share set: must equal `receivers.length` (n-of-n key model) unless
   * {@link allowThresholdBelowPartyCount}.
   */
  readonly threshold: number;
  readonly me: number;
  /** My old key share: required if I am a dealer. */
  readonly keyShare?: Dkls23KeyShare;
  /** The old share set's public part: required if I am not a dealer. */
  readonly shareSet?: PublicShareSet;
  /**
   * Allow a new threshold below the number of receivers. Off by default: with t < n, t
   * receivers together can rebuild every dealer's weighted share, hence the key.
   */
  readonly allowThresholdBelowPartyCount?: boolean;
  /**
   * Allow any receiver set (no new member, or several). Off by default: receivers that are all
   * old members, or several new members, let colluding receivers collect enough evaluations of
   * an honest dealer's polynomial to rebuild its share.
   */
  readonly allowAnyReceiverSet?: boolean;
}

/** Parameters of {@link dkls23Refresh}. */
export interface Dkls23RefreshParams {
  readonly sid: Uint8Array;
  /** My key share; the refresh runs among all its parties with its threshold. */
  readonly keyShare: Dkls23KeyShare;
  /** Needed to refresh a share set whose threshold is below its party count. */
  readonly allowThresholdBelowPartyCount?: boolean;
}

/**
 * Test-only options of {@link dkls23DkgForTesting}, {@link dkls23ReshareForTesting} and
 * {@link dkls23RefreshForTesting}; reachable through `test-hooks.ts` only, never from the
 * package entry point (review 2026-11-27, F2: a reproducible source would give the same Δ and
 * base-OT keys in every share set a party joins).
 */
export interface Dkls23KeygenTestOptions {
  /** Randomness (the session's seed) instead of the CSPRNG. */
  readonly random?: RandomSource;
}

/** Outcome of a reshare: the new key share, or null for a dealer that leaves. */
export interface Dkls23ReshareResult {
  readonly keyShare: Dkls23KeyShare | null;
}

type KeygenKind = 'dkg' | 'reshare' | 'refresh';

/** The key-model opt-outs, by the names FROST uses (`frost-dkg.ts`, `frost-reshare.ts`). */
interface KeyModelOptions {
  readonly allowThresholdBelowPartyCount: boolean;
  readonly allowAnyReceiverSet: boolean;
}

interface KeygenConfig extends KeyModelOptions {
  readonly kind: KeygenKind;
  readonly dealers: readonly number[];
  readonly receivers: readonly number[];
  readonly threshold: number;
  /** Reshare and refresh: the old share set. */
  readonly old: PublicShareSet | undefined;
}

interface Opening {
  readonly C: GroupPoint[];
  readonly extra: Uint8Array;
  readonly salt: Uint8Array;
  readonly proof: Uint8Array;
  readonly raw: Uint8Array;
}

type Output = Dkls23KeyShare | Dkls23ReshareResult;

const invalid = (detail: string): MpcError => new MpcError('ERR_MPC_INVALID_PARAMS', { detail });

const sameList = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

function kindOf(protocol: string): KeygenKind {
  if (protocol === dkls23ProtocolIds.dkg) return 'dkg';
  if (protocol === dkls23ProtocolIds.reshare) return 'reshare';
  if (protocol === dkls23ProtocolIds.refresh) return 'refresh';
  throw new MpcError('ERR_MPC_MALFORMED', { detail: 'protocol id' });
}

function optionFlags(options: KeyModelOptions): number {
  return (options.allowThresholdBelowPartyCount ? 1 : 0) | (options.allowAnyReceiverSet ? 2 : 0);
}

/**
 * Validates the parameters against the key model (ARCHITECTURE.md §3; the rules of
 * `frost-reshare.ts` `makeConfig`, review C3/H1), at creation and again on restore:
 * - DKG: D = N = the session's parties, t = n unless `allowThresholdBelowPartyCount`;
 * - reshare: D ⊆ old parties with |D| ≥ t_old; t = |N| unless `allowThresholdBelowPartyCount`;
 *   exactly one receiver that is not a dealer unless `allowAnyReceiverSet`;
 * - refresh: D = N = the old parties and t = t_old (and t = n unless the flag).
 */
function makeKeygenConfig(
  header: SessionHeader,
  kind: KeygenKind,
  dealersIn: readonly number[],
  receiversIn: readonly number[],
  threshold: number,
  old: PublicShareSet | undefined,
  options: KeyModelOptions,
): KeygenConfig {
  const dealers = normalizeParties(dealersIn, 'dealers');
  const receivers = normalizeParties(receiversIn, 'receivers');
  if (receivers.length < 2) throw invalid('at least two receivers');
  if (kind === 'dkg') {
    if (old !== undefined) throw invalid('a DKG has no old share set');
    if (options.allowAnyReceiverSet) throw invalid('allowAnyReceiverSet is for a reshare');
    if (!sameList(dealers, header.parties) || !sameList(receivers, header.parties))
      throw invalid('DKG: every party deals and receives');
    assertKeyModelThreshold(
      threshold,
      receivers.length,
      options.allowThresholdBelowPartyCount,
      'parties',
    );
    return { kind, dealers, receivers, threshold, old, ...options };
  }
  if (old === undefined) throw invalid('old share set required');
  // Dealers are checked against it and new members trust it: a share set of another curve or
  // with inconsistent verification shares is refused here, not mid-protocol.
  if (old.curve !== 'secp256k1') throw invalid('DKLs23 share sets are secp256k1');
  checkPublicShareSet(old, 'ERR_MPC_INVALID_PARAMS');
  assertKeyModelThreshold(
    threshold,
    receivers.length,
    options.allowThresholdBelowPartyCount,
    'receivers',
  );
  if (dealers.length < old.threshold) throw invalid('fewer dealers than the old threshold');
  for (const d of dealers)
    if (!old.parties.includes(d)) throw invalid(`dealer ${d} is not in the old share set`);
  if (kind === 'refresh') {
    if (options.allowAnyReceiverSet) throw invalid('allowAnyReceiverSet is for a reshare');
    if (
      !sameList(dealers, old.parties) ||
      !sameList(receivers, old.parties) ||
      threshold !== old.threshold
    )
      throw invalid('refresh: dealers and receivers are the share set, same threshold');
  } else {
    const newMembers = receivers.filter((j) => !dealers.includes(j));
    if (newMembers.length !== 1 && !options.allowAnyReceiverSet)
      throw invalid('exactly one receiver must be new (set allowAnyReceiverSet to relax)');
  }
  const union = normalizeParties([...new Set([...dealers, ...receivers])]);
  if (!sameList(union, header.parties))
    throw invalid('session parties must be the dealers and receivers');
  return { kind, dealers, receivers, threshold, old: publicShareSet(old), ...options };
}

function partyList(parties: readonly number[]): Uint8Array {
  return Uint8Array.from(parties.flatMap((p) => [...u16be(p)]));
}

/**
 * P = H("keygen/params", protocol, sid, D, N, t, options, old share set): everything that
 * decides who can rebuild the key (review C3, H1). It is the third field of the hash context, so
 * every commitment and proof is bound to it, and it heads every round-1 broadcast, where it is
 * compared before round 2 releases any f_i(j).
 */
function parameterDigest(header: SessionHeader, cfg: KeygenConfig): Uint8Array {
  return dkls23Hasher.hash(
    'keygen/params',
    ...sessionContext(header.protocol, header.sid),
    partyList(cfg.dealers),
    partyList(cfg.receivers),
    Uint8Array.of(cfg.threshold),
    Uint8Array.of(optionFlags(cfg)),
    cfg.old === undefined ? new Uint8Array(0) : encodePublicShareSet(cfg.old),
  );
}

class Dkls23Keygen implements RoundProtocol<Output> {
  readonly rounds = 3;
  readonly confirmRound = 3;
  readonly #header: SessionHeader;
  readonly #cfg: KeygenConfig;
  /** P, see {@link parameterDigest}. */
  readonly #paramsDigest: Uint8Array;
  /** (protocol, sid, P): the first fields of every hash of the session. */
  readonly #context: Uint8Array[];
  readonly #others: readonly number[];
  readonly #isDealer: boolean;
  readonly #isReceiver: boolean;
  readonly #oldDigest: Uint8Array;
  /** Seed of every random value of this session (secret; see session-framework.md). */
  readonly #seed: Uint8Array;
  /** Reshare dealer: λ_i·x_i; DKG: undefined (random secret). Secret. */
  #dealtSecret: bigint | undefined;
  /** Round-1 commitments of the other dealers. */
  readonly #commitments: Map<number, Uint8Array>;
  /** Round-1 base-OT sender keys Y of the other receivers. */
  readonly #senderKeys: Map<number, Uint8Array>;
  /** Base-OT receiver keys per Bob, kept in memory between R2 and R3 (recomputed on restore). */
  readonly #otReceiverKeys = new Map<number, Uint8Array[]>();
  /** My new key share (secret), null for a leaving dealer, from round 3 on. */
  #pending: Dkls23KeyShare | null | undefined;
  #transcript: Uint8Array | undefined;
  #newSet: PublicShareSet | undefined;
  #done: boolean;

  constructor(
    header: SessionHeader,
    cfg: KeygenConfig,
    seed: Uint8Array,
    dealtSecret: bigint | undefined,
    commitments: Map<number, Uint8Array>,
    senderKeys: Map<number, Uint8Array>,
    pending: Dkls23KeyShare | null | undefined,
    transcript: Uint8Array | undefined,
    newSet: PublicShareSet | undefined,
    done: boolean,
  ) {
    this.#header = header;
    this.#cfg = cfg;
    this.#seed = seed;
    this.#dealtSecret = dealtSecret;
    this.#commitments = commitments;
    this.#senderKeys = senderKeys;
    this.#pending = pending;
    this.#transcript = transcript;
    this.#newSet = newSet;
    this.#done = done;
    this.#paramsDigest = parameterDigest(header, cfg);
    this.#context = [...sessionContext(header.protocol, header.sid), this.#paramsDigest];
    this.#others = header.parties.filter((p) => p !== header.me);
    this.#isDealer = cfg.dealers.includes(header.me);
    this.#isReceiver = cfg.receivers.includes(header.me);
    this.#oldDigest =
      cfg.old === undefined
        ? new Uint8Array(EXTRA)
        : dkls23Hasher.hash('reshare/old', ...this.#context, encodePublicShareSet(cfg.old));
  }

  #rng(...labels: (string | number)[]): RandomSource {
    return seededRandom(this.#seed, ...labels);
  }

  #coefficients(): bigint[] {
    return samplePolynomial(suite, this.#cfg.threshold, this.#dealtSecret, this.#rng('poly'))
      .coefficients;
  }

  #extra(): Uint8Array {
    return this.#cfg.kind === 'dkg' ? this.#rng('cc')(EXTRA) : this.#oldDigest;
  }

  #openingPayload(coefficients: readonly bigint[]): Uint8Array {
    const w = new ByteWriter();
    for (const a of coefficients) w.raw(suite.G.multiply(a).toBytes());
    return w.raw(this.#extra()).finish();
  }

  #otherReceivers(): number[] {
    return this.#cfg.receivers.filter((p) => p !== this.#header.me);
  }

  #baseOtSid(alice: number, bob: number): Uint8Array {
    return pairSessionId(this.#context, alice, bob, 'base-ot');
  }

  #delta(bob: number): Uint8Array {
    return this.#rng('delta', bob)(16);
  }

  /** Base OT of (me → bob) as its receiver, with choices Δ and bob's Y of round 1. */
  #baseOtReceive(bob: number): { message: Uint8Array; keys: Uint8Array[] } {
    return baseOtReceive(
      this.#baseOtSid(this.#header.me, bob),
      this.#delta(bob),
      this.#senderKeys.get(bob) as Uint8Array,
      bob,
      this.#rng('base-ot-receiver', bob),
    );
  }

  expect(round: number): Expectation {
    // Round 1: every party broadcasts P (dealers append their commitment), so each party has
    // checked everyone's parameters before its round-2 shares and OT messages exist.
    if (round === 1)
      return {
        broadcastFrom: this.#others,
        p2pFrom: this.#isReceiver ? this.#otherReceivers() : [],
      };
    if (round === 2) {
      const dealers = this.#cfg.dealers.filter((p) => p !== this.#header.me);
      return { broadcastFrom: dealers, p2pFrom: this.#isReceiver ? this.#others : [] };
    }
    return { broadcastFrom: this.#others, p2pFrom: [] };
  }

  start(): Outgoing[] {
    const w = new ByteWriter().raw(this.#paramsDigest);
    if (this.#isDealer) {
      const payload = this.#openingPayload(this.#coefficients());
      const salt = this.#rng('salt')(SALT_LENGTH);
      w.raw(commit(dkls23Hasher, this.#context, this.#header.me, payload, () => salt).commitment);
    }
    const out: Outgoing[] = [{ to: 'broadcast', payload: w.finish() }];
    if (this.#isReceiver)
      for (const alice of this.#otherReceivers())
        out.push({ to: alice, payload: baseOtSenderKey(this.#rng('base-ot-y', alice)).Y });
    return out;
  }

  #p2pLength(from: number): number {
    return (
      (this.#cfg.dealers.includes(from) ? 32 : 0) +
      (this.#cfg.receivers.includes(from) ? SEED + BASE_OT_RECEIVER_MESSAGE_LENGTH : 0)
    );
  }

  checkPayload(round: number, kind: 'broadcast' | 'p2p', from: number, payload: Uint8Array): void {
    const bad = (detail: string): never => {
      throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail });
    };
    if (round === 1 && kind === 'broadcast') {
      if (payload.length < PARAMS_DIGEST) bad('parameter digest');
      // Parameters first: a sender with another dealer set sends another length, and that is a
      // disagreement, not a malformed message. P is public; the compare is constant time anyway.
      if (!constantTimeEqual(payload.subarray(0, PARAMS_DIGEST), this.#paramsDigest))
        throw new MpcError('ERR_MPC_CONTEXT_MISMATCH', {
          culprit: from,
          detail: 'key generation parameters (parties, threshold, options, old share set)',
        });
      const expected = PARAMS_DIGEST + (this.#cfg.dealers.includes(from) ? COMMITMENT_LENGTH : 0);
      if (payload.length !== expected) bad('commitment');
    } else if (round === 1) suite.decodePoint(payload, from);
    else if (round === 2 && kind === 'broadcast') this.#decodeOpening(from, payload);
    else if (round === 2) {
      if (payload.length !== this.#p2pLength(from)) bad('share message');
      if (this.#cfg.dealers.includes(from)) suite.decodeScalar(payload.subarray(0, 32), from, true);
    } else {
      const expected = 32 + (this.#cfg.receivers.includes(from) ? proofLength(suite) : 0);
      if (payload.length !== expected) bad('confirmation');
    }
  }

  #decodeOpening(from: number, payload: Uint8Array): Opening {
    const r = new ByteReader(payload, 'dkls23 opening', from);
    const C: GroupPoint[] = [];
    for (let k = 0; k < this.#cfg.threshold; k++) C.push(suite.decodePoint(r.take(POINT), from));
    const extra = r.take(EXTRA);
    const salt = r.take(SALT_LENGTH);
    const proof = r.take(proofLength(suite));
    r.end();
    return { C, extra, salt, proof, raw: payload.subarray(0, this.#cfg.threshold * POINT + EXTRA) };
  }

  advance(round: number, input: RoundMessages): Outgoing[] {
    if (round === 1) return this.#round2(input);
    if (round === 2) return this.#round3(input);
    this.#finish(input);
    return [];
  }

  #round2(input: RoundMessages): Outgoing[] {
    for (const [j, b] of input.broadcast)
      if (this.#cfg.dealers.includes(j)) this.#commitments.set(j, b.slice(PARAMS_DIGEST));
    for (const [j, Y] of input.p2p) this.#senderKeys.set(j, Y.slice());
    const { me } = this.#header;
    const out: Outgoing[] = [];
    const coefficients = this.#isDealer ? this.#coefficients() : [];
    if (this.#isDealer) {
      const proof = proveKnowledge(
        suite,
        dkls23Hasher,
        this.#context,
        me,
        coefficients[0] as bigint,
        this.#rng('pok'),
      );
      out.push({
        to: 'broadcast',
        payload: new ByteWriter()
          .raw(this.#openingPayload(coefficients))
          .raw(this.#rng('salt')(SALT_LENGTH))
          .raw(proof)
          .finish(),
      });
    }
    for (const j of this.#others) {
      if (!this.#cfg.receivers.includes(j)) continue;
      const w = new ByteWriter();
      if (this.#isDealer) w.raw(suite.encodeScalar(evaluatePolynomial(suite, coefficients, j)));
      if (this.#isReceiver) {
        const { message, keys } = this.#baseOtReceive(j);
        this.#otReceiverKeys.set(j, keys);
        w.raw(this.#rng('zero', j)(SEED)).raw(message);
      }
      out.push({ to: j, payload: w.finish() });
    }
    coefficients.fill(0n);
    return out;
  }

  #round3(input: RoundMessages): Outgoing[] {
    const { me } = this.#header;
    const cfg = this.#cfg;
    const openings = new Map<number, Opening>();
    // 1. Every dealer's opening, proof and (reshare) constraint, then my shares.
    const oldChecked =
      cfg.old === undefined ? undefined : checkPublicShareSet(cfg.old, 'ERR_MPC_INVALID_PARAMS');
    for (const j of cfg.dealers) {
      let o: Opening;
      if (j === me) {
        const coefficients = this.#coefficients();
        const raw = this.#openingPayload(coefficients);
        o = {
          C: coefficients.map((a) => suite.G.multiply(a)),
          extra: raw.subarray(raw.length - EXTRA),
          salt: new Uint8Array(0),
          proof: new Uint8Array(0),
          raw,
        };
        coefficients.fill(0n);
      } else {
        o = this.#decodeOpening(j, input.broadcast.get(j) as Uint8Array);
        verifyOpening(
          dkls23Hasher,
          this.#context,
          j,
          this.#commitments.get(j) as Uint8Array,
          o.raw,
          o.salt,
        );
        verifyKnowledge(suite, dkls23Hasher, this.#context, j, o.C[0] as GroupPoint, o.proof);
        if (oldChecked !== undefined) {
          if (!constantTimeEqual(o.extra, this.#oldDigest))
            throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', {
              culprit: j,
              detail: 'old share set',
            });
          const lambda = lagrange(suite, j, cfg.dealers);
          const Xj = oldChecked.verificationShares.get(j) as GroupPoint;
          if (!Xj.multiplyUnsafe(lambda).equals(o.C[0] as GroupPoint))
            throw new MpcError('ERR_MPC_INVALID_SHARE', { culprit: j, detail: 'not its share' });
        }
      }
      openings.set(j, o);
    }
    let share = 0n;
    if (this.#isReceiver)
      for (const j of cfg.dealers) {
        const C = (openings.get(j) as Opening).C;
        let s: bigint;
        if (j === me) {
          const coefficients = this.#coefficients();
          s = evaluatePolynomial(suite, coefficients, me);
          coefficients.fill(0n);
        } else {
          s = suite.decodeScalar((input.p2p.get(j) as Uint8Array).subarray(0, 32), j, true);
          verifyShare(suite, C, me, s, j);
        }
        share = suite.mod(share + s);
      }
    // 2. Public outputs.
    const aggregate: GroupPoint[] = [];
    for (let k = 0; k < cfg.threshold; k++) {
      let acc = suite.ZERO;
      for (const j of cfg.dealers) acc = acc.add((openings.get(j) as Opening).C[k] as GroupPoint);
      aggregate.push(acc);
    }
    const X = aggregate[0] as GroupPoint;
    const verificationShares = cfg.receivers.map((m) => evaluateCommitments(suite, aggregate, m));
    if (X.is0() || verificationShares.some((v) => v.is0()))
      throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', { detail: 'degenerate key' });
    if (oldChecked !== undefined && !X.equals(oldChecked.publicKey))
      throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', { detail: 'group key changed' });
    const chainCode =
      cfg.old === undefined
        ? dkls23Hasher.hash(
            'cc',
            ...this.#context,
            ...cfg.dealers.map((j) => (openings.get(j) as Opening).extra),
          )
        : cfg.old.chainCode.slice();
    const newSet: PublicShareSet = {
      curve: 'secp256k1',
      threshold: cfg.threshold,
      parties: [...cfg.receivers],
      publicKey: X.toBytes(),
      chainCode,
      verificationShares: verificationShares.map((v) => v.toBytes()),
    };
    this.#newSet = newSet;
    this.#transcript = dkls23Hasher.hash(
      'transcript',
      ...this.#context,
      encodePublicShareSet(newSet),
      this.#oldDigest,
      ...cfg.dealers.map((j) => (openings.get(j) as Opening).raw),
    );
    // 3. My key share: zero seeds and OT setups with every other receiver.
    if (!this.#isReceiver) {
      this.#pending = null;
      return [{ to: 'broadcast', payload: this.#transcript }];
    }
    if (share === 0n) throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', { detail: 'zero share' });
    const pairs: Dkls23Pair[] = [];
    for (const j of this.#otherReceivers()) {
      const msg = input.p2p.get(j) as Uint8Array;
      const offset = cfg.dealers.includes(j) ? 32 : 0;
      const theirZero = msg.subarray(offset, offset + SEED);
      const otMessage = msg.subarray(offset + SEED);
      const myZero = this.#rng('zero', j)(SEED);
      const [lo, hi] = me < j ? [myZero, theirZero] : [theirZero, myZero];
      const zeroSeed = dkls23Hasher.hash(
        'zero',
        ...this.#context,
        u16(Math.min(me, j)),
        u16(Math.max(me, j)),
        lo,
        hi,
      );
      wipe(myZero);
      // (me → j): I am the base-OT receiver with choices Δ; j sent me its Y in R1.
      const delta = this.#delta(j);
      const keys = this.#otReceiverKeys.get(j) ?? this.#baseOtReceive(j).keys;
      // (j → me): I am the base-OT sender with my y for j.
      const { y } = baseOtSenderKey(this.#rng('base-ot-y', j));
      const { keys0, keys1 } = baseOtSenderFinish(this.#baseOtSid(j, me), y, otMessage, j);
      pairs.push({
        party: j,
        zeroSeed,
        otSender: { sender: me, receiver: j, delta, keys, destroyed: false },
        otReceiver: { sender: j, receiver: me, keys0, keys1, destroyed: false },
      });
    }
    this.#otReceiverKeys.clear();
    this.#pending = redactKeyShare<Dkls23KeyShare>({
      ...newSet,
      curve: 'secp256k1',
      index: me,
      signingShare: suite.encodeScalar(share),
      pairs,
    });
    checkDkls23KeyShare(this.#pending);
    const proof = proveKnowledge(
      suite,
      dkls23Hasher,
      [...this.#context, label('share')],
      me,
      share,
      this.#rng('pok-share'),
    );
    share = 0n;
    return [
      { to: 'broadcast', payload: new ByteWriter().raw(this.#transcript).raw(proof).finish() },
    ];
  }

  #finish(input: RoundMessages): void {
    const transcript = this.#transcript as Uint8Array;
    const receivers = this.#cfg.receivers;
    for (const j of this.#others) {
      const payload = input.broadcast.get(j) as Uint8Array;
      if (!constantTimeEqual(payload.subarray(0, 32), transcript))
        throw new Dkls23CheckError('transcript', j);
    }
    const shares = checkPublicShareSet(this.#newSet as PublicShareSet).verificationShares;
    for (const j of this.#others) {
      if (!receivers.includes(j)) continue;
      const payload = input.broadcast.get(j) as Uint8Array;
      verifyKnowledge(
        suite,
        dkls23Hasher,
        [...this.#context, label('share')],
        j,
        shares.get(j) as GroupPoint,
        payload.subarray(32),
      );
    }
    this.#done = true;
    wipe(this.#seed);
    this.#dealtSecret = undefined;
  }

  result(): Output | undefined {
    if (!this.#done || this.#pending === undefined) return undefined;
    return this.#cfg.kind === 'dkg'
      ? (this.#pending as Dkls23KeyShare)
      : { keyShare: this.#pending };
  }

  encodeState(): Uint8Array {
    return encodeConfig(this.#cfg)
      .u8(this.#done ? 1 : 0)
      .raw(this.#seed)
      .bytes(
        this.#dealtSecret === undefined ? new Uint8Array(0) : suite.encodeScalar(this.#dealtSecret),
      )
      .bytes(encodeMap(this.#commitments))
      .bytes(encodeMap(this.#senderKeys))
      .bytes(this.#transcript ?? new Uint8Array(0))
      .bytes(
        this.#newSet === undefined
          ? new Uint8Array(0)
          : encodeSet(new ByteWriter(), this.#newSet).finish(),
      )
      .u8(this.#pending === undefined ? 0 : this.#pending === null ? 1 : 2)
      .bytes(this.#pending ? exportDkls23KeyShare(this.#pending) : new Uint8Array(0))
      .finish();
  }

  wipe(): void {
    wipe(this.#seed);
    this.#dealtSecret = undefined;
    for (const keys of this.#otReceiverKeys.values()) wipe(...keys);
    this.#otReceiverKeys.clear();
    if (this.#pending) wipeDkls23KeyShare(this.#pending);
    this.#pending = undefined;
  }

  /** Public fields only (session-framework.md, "Secrets in memory"). */
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
    return inspectSummary('Dkls23Keygen', this.toJSON(), options, inspect);
  }

  static load(header: SessionHeader, state: Uint8Array): RoundProtocol<Output> {
    const r = new ByteReader(state, 'dkls23 keygen state');
    // The key-model rules are checked again: a state is as untrusted as a message.
    const cfg = decodeConfig(r, header);
    const done = r.u8();
    if (done > 1) r.fail('done flag');
    const seed = r.take(SEED);
    const dealt = r.bytes(32);
    const commitments = decodeMap(r.bytes(1 << 16), COMMITMENT_LENGTH);
    const senderKeys = decodeMap(r.bytes(1 << 16), POINT);
    const transcript = r.bytes(32);
    if (transcript.length !== 0 && transcript.length !== 32) r.fail('transcript');
    const newSetBytes = r.bytes(1 << 16);
    const kind = r.u8();
    if (kind > 2) r.fail('result tag');
    const pendingBytes = r.bytes(1 << 22);
    r.end();
    const others = header.parties.filter((p) => p !== header.me);
    for (const j of commitments.keys())
      if (!others.includes(j) || !cfg.dealers.includes(j)) r.fail('commitment sender');
    for (const j of senderKeys.keys())
      if (!others.includes(j) || !cfg.receivers.includes(j)) r.fail('base-OT sender');
    if (kind !== 2 && pendingBytes.length !== 0) r.fail('result');
    const pending = kind === 0 ? undefined : kind === 1 ? null : importDkls23KeyShare(pendingBytes);
    const receiving = cfg.receivers.includes(header.me);
    if (pending === null && receiving) r.fail('result');
    if (pending && (!receiving || pending.index !== header.me)) r.fail('result');
    // λ_i·x_i exists only while a reshare dealer still deals: it is dropped when the session ends.
    const dealing = cfg.kind !== 'dkg' && cfg.dealers.includes(header.me) && done === 0;
    if ((dealt.length === 32) !== dealing) r.fail('dealt secret');
    const p = new Dkls23Keygen(
      header,
      cfg,
      seed,
      dealt.length === 0 ? undefined : suite.decodeScalar(dealt),
      commitments,
      senderKeys,
      pending,
      transcript.length === 0 ? undefined : transcript,
      newSetBytes.length === 0 ? undefined : decodeSetBytes(newSetBytes),
      done === 1,
    );
    const result = p.result();
    return done === 1 && result !== undefined ? finishedProtocol(3, 3, result, state) : p;
  }
}

function encodeMap(m: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const w = new ByteWriter().u8(m.size);
  for (const [j, v] of m) w.u16(j).raw(v);
  return w.finish();
}

function decodeMap(bytes: Uint8Array, width: number): Map<number, Uint8Array> {
  const r = new ByteReader(bytes, 'dkls23 state map');
  const m = new Map<number, Uint8Array>();
  for (let n = r.u8(); n > 0; n--) {
    const j = r.u16();
    if (m.has(j)) r.fail('duplicate party');
    m.set(j, r.take(width));
  }
  r.end();
  return m;
}

/** `u8 flags | u8 t | u8 |D| | D | u8 |N| | N | u8 0 | (u8 1 | old share set)`. */
function encodeConfig(cfg: KeygenConfig): ByteWriter {
  const w = new ByteWriter().u8(optionFlags(cfg)).u8(cfg.threshold).u8(cfg.dealers.length);
  for (const d of cfg.dealers) w.u16(d);
  w.u8(cfg.receivers.length);
  for (const d of cfg.receivers) w.u16(d);
  if (cfg.old === undefined) return w.u8(0);
  return encodeSet(w.u8(1), cfg.old);
}

function encodeSet(w: ByteWriter, set: PublicShareSet): ByteWriter {
  w.u8(set.threshold).u8(set.parties.length);
  for (const p of set.parties) w.u16(p);
  w.raw(set.publicKey).raw(set.chainCode);
  for (const v of set.verificationShares) w.raw(v);
  return w;
}

function decodeSet(r: ByteReader): PublicShareSet {
  const threshold = r.u8();
  const parties = Array.from({ length: r.u8() }, () => r.u16());
  return {
    curve: 'secp256k1',
    threshold,
    parties,
    publicKey: r.take(POINT),
    chainCode: r.take(32),
    verificationShares: parties.map(() => r.take(POINT)),
  };
}

function decodeSetBytes(bytes: Uint8Array): PublicShareSet {
  const r = new ByteReader(bytes, 'dkls23 share set');
  const set = decodeSet(r);
  r.end();
  checkPublicShareSet(set, 'ERR_MPC_KEY_SHARE');
  return set;
}

function decodeConfig(r: ByteReader, header: SessionHeader): KeygenConfig {
  const kind = kindOf(header.protocol);
  const flags = r.u8();
  if (flags > 3) r.fail('flags');
  const threshold = r.u8();
  const list = (): number[] => Array.from({ length: r.u8() }, () => r.u16());
  const dealers = list();
  const receivers = list();
  const hasOld = r.u8();
  if (hasOld > 1) r.fail('old share set tag');
  const old = hasOld === 1 ? decodeSet(r) : undefined;
  try {
    return makeKeygenConfig(header, kind, dealers, receivers, threshold, old, {
      allowThresholdBelowPartyCount: (flags & 1) !== 0,
      allowAnyReceiverSet: (flags & 2) !== 0,
    });
  } catch (e) {
    if (isMpcError(e)) throw e;
    return r.fail('parameters');
  }
}

function randomSeed(random: RandomSource): Uint8Array {
  const seed = random(SEED);
  if (seed.length !== SEED) throw new RangeError('random source returned the wrong length');
  return seed;
}

function create<R>(
  header: SessionHeader,
  cfg: KeygenConfig,
  dealt: bigint | undefined,
  random: RandomSource | undefined,
): Session<R> {
  const p = new Dkls23Keygen(
    header,
    cfg,
    randomSeed(random ?? defaultRandom),
    dealt,
    new Map(),
    new Map(),
    undefined,
    undefined,
    undefined,
    false,
  );
  return Session.create(header, p as RoundProtocol<R>);
}

/**
 * Creates a DKLs23 DKG session among `parties`. `parties` and `threshold` must come from the
 * platform-signed roster; t = n unless `allowThresholdBelowPartyCount` (ARCHITECTURE.md §3).
 */
export function dkls23Dkg(params: Dkls23DkgParams): Session<Dkls23KeyShare> {
  return dkgSession(params, undefined);
}

/** Test-only: {@link dkls23Dkg} with injected randomness. */
export function dkls23DkgForTesting(
  params: Dkls23DkgParams,
  test: Dkls23KeygenTestOptions,
): Session<Dkls23KeyShare> {
  return dkgSession(params, test.random);
}

function dkgSession(
  params: Dkls23DkgParams,
  random: RandomSource | undefined,
): Session<Dkls23KeyShare> {
  const header = makeHeader(dkls23ProtocolIds.dkg, params.sid, params.parties, params.me);
  const cfg = makeKeygenConfig(
    header,
    'dkg',
    header.parties,
    header.parties,
    params.threshold,
    undefined,
    {
      allowThresholdBelowPartyCount: params.allowThresholdBelowPartyCount === true,
      allowAnyReceiverSet: false,
    },
  );
  return create(header, cfg, undefined, random);
}

function reshareSession(
  kind: 'reshare' | 'refresh',
  params: Dkls23ReshareParams,
  random: RandomSource | undefined,
): Session<Dkls23ReshareResult> {
  const dealers = normalizeParties(params.dealers, 'dealers');
  const receivers = normalizeParties(params.receivers, 'receivers');
  const header = makeHeader(
    dkls23ProtocolIds[kind],
    params.sid,
    [...new Set([...dealers, ...receivers])],
    params.me,
  );
  const isDealer = dealers.includes(params.me);
  let old: PublicShareSet;
  let secret: bigint | undefined;
  if (isDealer) {
    if (params.keyShare === undefined) throw invalid('a dealer needs its key share');
    if (params.keyShare.index !== params.me) throw invalid('key share index');
    secret = checkDkls23KeyShare(params.keyShare);
    old = publicShareSet(params.keyShare);
  } else {
    if (params.shareSet === undefined) throw invalid('old share set required');
    old = publicShareSet(params.shareSet);
  }
  // Every rule is checked before the dealt secret is computed: a refused session holds nothing.
  const cfg = makeKeygenConfig(header, kind, dealers, receivers, params.threshold, old, {
    allowThresholdBelowPartyCount: params.allowThresholdBelowPartyCount === true,
    allowAnyReceiverSet: params.allowAnyReceiverSet === true,
  });
  // Non-constant-time BigInt arithmetic on a secret (docs/constant-time.md).
  const dealt =
    secret === undefined ? undefined : suite.mod(lagrange(suite, params.me, dealers) * secret);
  secret = undefined;
  return create(header, cfg, dealt, random);
}

/**
 * Creates a DKLs23 reshare session: `dealers` re-deal the key to `receivers`. `dealers`,
 * `receivers` and `threshold` must come from the platform-signed roster; by default
 * t = |receivers| and exactly one receiver is new (ARCHITECTURE.md §3, "Next signer").
 */
export function dkls23Reshare(params: Dkls23ReshareParams): Session<Dkls23ReshareResult> {
  return reshareSession('reshare', params, undefined);
}

/** Test-only: {@link dkls23Reshare} with injected randomness. */
export function dkls23ReshareForTesting(
  params: Dkls23ReshareParams,
  test: Dkls23KeygenTestOptions,
): Session<Dkls23ReshareResult> {
  return reshareSession('reshare', params, test.random);
}

/** The reshare parameters of a refresh: every member re-deals to the same set, same t. */
function refreshParams(params: Dkls23RefreshParams): Dkls23ReshareParams {
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

/** Creates a DKLs23 refresh session: all members re-deal to themselves (same X, chain code). */
export function dkls23Refresh(params: Dkls23RefreshParams): Session<Dkls23ReshareResult> {
  return reshareSession('refresh', refreshParams(params), undefined);
}

/** Test-only: {@link dkls23Refresh} with injected randomness. */
export function dkls23RefreshForTesting(
  params: Dkls23RefreshParams,
  test: Dkls23KeygenTestOptions,
): Session<Dkls23ReshareResult> {
  return reshareSession('refresh', refreshParams(params), test.random);
}

/** Loader for {@link Session.restore} (DKG, reshare and refresh). */
export const loadDkls23Keygen = (
  header: SessionHeader,
  state: Uint8Array,
): RoundProtocol<unknown> => Dkls23Keygen.load(header, state);
