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
 * Rounds, party i:
 * - R1 broadcast (dealer): com_i = H("com", ctx, i, C_i ‖ e_i, salt) with e_i the chain-code
 *   contribution cc_i (DKG) or the digest of the old share set (reshare). p2p to receiver j
 *   (receiver i): Y for the base OT of (Alice = j, Bob = i).
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
import { ByteReader, ByteWriter, constantTimeEqual, wipe } from '../bytes.js';
import { commit, verifyOpening, COMMITMENT_LENGTH, SALT_LENGTH } from '../commitment.js';
import {
  defaultRandom,
  secp256k1Suite,
  type GroupPoint,
  type RandomSource,
} from '../curve-suite.js';
import { MpcError } from '../errors.js';
import {
  evaluateCommitments,
  evaluatePolynomial,
  samplePolynomial,
  verifyShare,
} from '../feldman-vss.js';
import { label } from '../hash.js';
import {
  checkPublicShareSet,
  encodePublicShareSet,
  lagrange,
  publicShareSet,
  redactKeyShare,
  type PublicShareSet,
} from '../key-share.js';
import { assertThreshold, normalizeParties } from '../party-set.js';
import { proofLength, proveKnowledge, verifyKnowledge } from '../proof-of-knowledge.js';
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
  type Dkls23KeyShare,
  type Dkls23Pair,
} from './key-share.js';

const suite = secp256k1Suite;
const SEED = 32;
const EXTRA = 32;
const POINT = 33;

/** Parameters of {@link dkls23Dkg}. */
export interface Dkls23DkgParams {
  /** Session id, 16..64 bytes, unique per session. */
  readonly sid: Uint8Array;
  readonly parties: readonly number[];
  readonly me: number;
  /** t, 2 ≤ t ≤ n (Countersign: 3-of-3). */
  readonly threshold: number;
  /** Randomness; tests only. */
  readonly random?: RandomSource;
}

/** Parameters of {@link dkls23Reshare}. */
export interface Dkls23ReshareParams {
  readonly sid: Uint8Array;
  /** Old members that re-deal (at least the old threshold). */
  readonly dealers: readonly number[];
  /** Members of the new share set. */
  readonly receivers: readonly number[];
  readonly threshold: number;
  readonly me: number;
  /** My old key share: required if I am a dealer. */
  readonly keyShare?: Dkls23KeyShare;
  /** The old share set's public part: required if I am not a dealer. */
  readonly shareSet?: PublicShareSet;
  readonly random?: RandomSource;
}

/** Parameters of {@link dkls23Refresh}. */
export interface Dkls23RefreshParams {
  readonly sid: Uint8Array;
  readonly keyShare: Dkls23KeyShare;
  readonly random?: RandomSource;
}

/** Outcome of a reshare: the new key share, or null for a dealer that leaves. */
export interface Dkls23ReshareResult {
  readonly keyShare: Dkls23KeyShare | null;
}

interface KeygenConfig {
  readonly mode: 'dkg' | 'reshare';
  readonly dealers: readonly number[];
  readonly receivers: readonly number[];
  readonly threshold: number;
  /** Reshare: the old share set. */
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

class Dkls23Keygen implements RoundProtocol<Output> {
  readonly rounds = 3;
  readonly confirmRound = 3;
  private readonly context: Uint8Array[];
  private readonly others: readonly number[];
  private readonly isDealer: boolean;
  private readonly isReceiver: boolean;
  private readonly oldDigest: Uint8Array;
  /** Base-OT receiver keys per Bob, kept in memory between R2 and R3 (recomputed on restore). */
  private otReceiverKeys = new Map<number, Uint8Array[]>();

  constructor(
    private readonly header: SessionHeader,
    private readonly cfg: KeygenConfig,
    private seed: Uint8Array,
    /** Reshare dealer: λ_i·x_i; DKG: undefined (random secret). */
    private dealtSecret: bigint | undefined,
    private readonly commitments: Map<number, Uint8Array>,
    private readonly senderKeys: Map<number, Uint8Array>,
    private pending: Dkls23KeyShare | null | undefined,
    private transcript: Uint8Array | undefined,
    private newSet: PublicShareSet | undefined,
    private done: boolean,
  ) {
    this.context = sessionContext(header.protocol, header.sid);
    this.others = header.parties.filter((p) => p !== header.me);
    this.isDealer = cfg.dealers.includes(header.me);
    this.isReceiver = cfg.receivers.includes(header.me);
    this.oldDigest =
      cfg.old === undefined
        ? new Uint8Array(EXTRA)
        : dkls23Hasher.hash('reshare/old', ...this.context, encodePublicShareSet(cfg.old));
  }

  private rng(...labels: (string | number)[]): RandomSource {
    return seededRandom(this.seed, ...labels);
  }

  private coefficients(): bigint[] {
    return samplePolynomial(suite, this.cfg.threshold, this.dealtSecret, this.rng('poly'))
      .coefficients;
  }

  private extra(): Uint8Array {
    return this.cfg.mode === 'dkg' ? this.rng('cc')(EXTRA) : this.oldDigest;
  }

  private openingPayload(coefficients: readonly bigint[]): Uint8Array {
    const w = new ByteWriter();
    for (const a of coefficients) w.raw(suite.G.multiply(a).toBytes());
    return w.raw(this.extra()).finish();
  }

  private otherReceivers(): number[] {
    return this.cfg.receivers.filter((p) => p !== this.header.me);
  }

  private baseOtSid(alice: number, bob: number): Uint8Array {
    return pairSessionId(this.context, alice, bob, 'base-ot');
  }

  private delta(bob: number): Uint8Array {
    return this.rng('delta', bob)(16);
  }

  /** Base OT of (me → bob) as its receiver, with choices Δ and bob's Y of round 1. */
  private baseOtReceive(bob: number): { message: Uint8Array; keys: Uint8Array[] } {
    return baseOtReceive(
      this.baseOtSid(this.header.me, bob),
      this.delta(bob),
      this.senderKeys.get(bob) as Uint8Array,
      bob,
      this.rng('base-ot-receiver', bob),
    );
  }

  expect(round: number): Expectation {
    const dealers = this.cfg.dealers.filter((p) => p !== this.header.me);
    if (round === 1)
      return { broadcastFrom: dealers, p2pFrom: this.isReceiver ? this.otherReceivers() : [] };
    if (round === 2) return { broadcastFrom: dealers, p2pFrom: this.isReceiver ? this.others : [] };
    return { broadcastFrom: this.others, p2pFrom: [] };
  }

  start(): Outgoing[] {
    const out: Outgoing[] = [];
    if (this.isDealer) {
      const payload = this.openingPayload(this.coefficients());
      const salt = this.rng('salt')(SALT_LENGTH);
      const c = commit(dkls23Hasher, this.context, this.header.me, payload, () => salt);
      out.push({ to: 'broadcast', payload: c.commitment });
    }
    if (this.isReceiver)
      for (const alice of this.otherReceivers())
        out.push({ to: alice, payload: baseOtSenderKey(this.rng('base-ot-y', alice)).Y });
    return out;
  }

  private p2pLength(from: number): number {
    return (
      (this.cfg.dealers.includes(from) ? 32 : 0) +
      (this.cfg.receivers.includes(from) ? SEED + BASE_OT_RECEIVER_MESSAGE_LENGTH : 0)
    );
  }

  checkPayload(round: number, kind: 'broadcast' | 'p2p', from: number, payload: Uint8Array): void {
    const bad = (detail: string): never => {
      throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail });
    };
    if (round === 1 && kind === 'broadcast') {
      if (payload.length !== COMMITMENT_LENGTH) bad('commitment');
    } else if (round === 1) suite.decodePoint(payload, from);
    else if (round === 2 && kind === 'broadcast') this.decodeOpening(from, payload);
    else if (round === 2) {
      if (payload.length !== this.p2pLength(from)) bad('share message');
      if (this.cfg.dealers.includes(from)) suite.decodeScalar(payload.subarray(0, 32), from, true);
    } else {
      const expected = 32 + (this.cfg.receivers.includes(from) ? proofLength(suite) : 0);
      if (payload.length !== expected) bad('confirmation');
    }
  }

  private decodeOpening(from: number, payload: Uint8Array): Opening {
    const r = new ByteReader(payload, 'dkls23 opening', from);
    const C: GroupPoint[] = [];
    for (let k = 0; k < this.cfg.threshold; k++) C.push(suite.decodePoint(r.take(POINT), from));
    const extra = r.take(EXTRA);
    const salt = r.take(SALT_LENGTH);
    const proof = r.take(proofLength(suite));
    r.end();
    return { C, extra, salt, proof, raw: payload.subarray(0, this.cfg.threshold * POINT + EXTRA) };
  }

  advance(round: number, input: RoundMessages): Outgoing[] {
    if (round === 1) return this.round2(input);
    if (round === 2) return this.round3(input);
    this.finish(input);
    return [];
  }

  private round2(input: RoundMessages): Outgoing[] {
    for (const [j, c] of input.broadcast) this.commitments.set(j, c.slice());
    for (const [j, Y] of input.p2p) this.senderKeys.set(j, Y.slice());
    const { me } = this.header;
    const out: Outgoing[] = [];
    const coefficients = this.isDealer ? this.coefficients() : [];
    if (this.isDealer) {
      const proof = proveKnowledge(
        suite,
        dkls23Hasher,
        this.context,
        me,
        coefficients[0] as bigint,
        this.rng('pok'),
      );
      out.push({
        to: 'broadcast',
        payload: new ByteWriter()
          .raw(this.openingPayload(coefficients))
          .raw(this.rng('salt')(SALT_LENGTH))
          .raw(proof)
          .finish(),
      });
    }
    for (const j of this.others) {
      if (!this.cfg.receivers.includes(j)) continue;
      const w = new ByteWriter();
      if (this.isDealer) w.raw(suite.encodeScalar(evaluatePolynomial(suite, coefficients, j)));
      if (this.isReceiver) {
        const { message, keys } = this.baseOtReceive(j);
        this.otReceiverKeys.set(j, keys);
        w.raw(this.rng('zero', j)(SEED)).raw(message);
      }
      out.push({ to: j, payload: w.finish() });
    }
    coefficients.fill(0n);
    return out;
  }

  private round3(input: RoundMessages): Outgoing[] {
    const { me } = this.header;
    const { cfg } = this;
    const openings = new Map<number, Opening>();
    // 1. Every dealer's opening, proof and (reshare) constraint, then my shares.
    const oldChecked = cfg.old === undefined ? undefined : checkPublicShareSet(cfg.old);
    for (const j of cfg.dealers) {
      let o: Opening;
      if (j === me) {
        const coefficients = this.coefficients();
        const raw = this.openingPayload(coefficients);
        o = {
          C: coefficients.map((a) => suite.G.multiply(a)),
          extra: raw.subarray(raw.length - EXTRA),
          salt: new Uint8Array(0),
          proof: new Uint8Array(0),
          raw,
        };
        coefficients.fill(0n);
      } else {
        o = this.decodeOpening(j, input.broadcast.get(j) as Uint8Array);
        verifyOpening(
          dkls23Hasher,
          this.context,
          j,
          this.commitments.get(j) as Uint8Array,
          o.raw,
          o.salt,
        );
        verifyKnowledge(suite, dkls23Hasher, this.context, j, o.C[0] as GroupPoint, o.proof);
        if (oldChecked !== undefined) {
          if (!constantTimeEqual(o.extra, this.oldDigest))
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
    if (this.isReceiver)
      for (const j of cfg.dealers) {
        const C = (openings.get(j) as Opening).C;
        let s: bigint;
        if (j === me) {
          const coefficients = this.coefficients();
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
            ...this.context,
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
    this.newSet = newSet;
    this.transcript = dkls23Hasher.hash(
      'transcript',
      ...this.context,
      encodePublicShareSet(newSet),
      this.oldDigest,
      ...cfg.dealers.map((j) => (openings.get(j) as Opening).raw),
    );
    // 3. My key share: zero seeds and OT setups with every other receiver.
    if (!this.isReceiver) {
      this.pending = null;
      return [{ to: 'broadcast', payload: this.transcript }];
    }
    if (share === 0n) throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', { detail: 'zero share' });
    const pairs: Dkls23Pair[] = [];
    for (const j of this.otherReceivers()) {
      const msg = input.p2p.get(j) as Uint8Array;
      const offset = cfg.dealers.includes(j) ? 32 : 0;
      const theirZero = msg.subarray(offset, offset + SEED);
      const otMessage = msg.subarray(offset + SEED);
      const myZero = this.rng('zero', j)(SEED);
      const [lo, hi] = me < j ? [myZero, theirZero] : [theirZero, myZero];
      const zeroSeed = dkls23Hasher.hash(
        'zero',
        ...this.context,
        u16(Math.min(me, j)),
        u16(Math.max(me, j)),
        lo,
        hi,
      );
      wipe(myZero);
      // (me → j): I am the base-OT receiver with choices Δ; j sent me its Y in R1.
      const delta = this.delta(j);
      const keys = this.otReceiverKeys.get(j) ?? this.baseOtReceive(j).keys;
      // (j → me): I am the base-OT sender with my y for j.
      const { y } = baseOtSenderKey(this.rng('base-ot-y', j));
      const { keys0, keys1 } = baseOtSenderFinish(this.baseOtSid(j, me), y, otMessage, j);
      pairs.push({
        party: j,
        zeroSeed,
        otSender: { sender: me, receiver: j, delta, keys, destroyed: false },
        otReceiver: { sender: j, receiver: me, keys0, keys1, destroyed: false },
      });
    }
    this.otReceiverKeys.clear();
    this.pending = redactKeyShare<Dkls23KeyShare>({
      ...newSet,
      curve: 'secp256k1',
      index: me,
      signingShare: suite.encodeScalar(share),
      pairs,
    });
    checkDkls23KeyShare(this.pending);
    const proof = proveKnowledge(
      suite,
      dkls23Hasher,
      [...this.context, label('share')],
      me,
      share,
      this.rng('pok-share'),
    );
    share = 0n;
    return [
      { to: 'broadcast', payload: new ByteWriter().raw(this.transcript).raw(proof).finish() },
    ];
  }

  private finish(input: RoundMessages): void {
    const transcript = this.transcript as Uint8Array;
    const receivers = this.cfg.receivers;
    for (const j of this.others) {
      const payload = input.broadcast.get(j) as Uint8Array;
      if (!constantTimeEqual(payload.subarray(0, 32), transcript))
        throw new Dkls23CheckError('transcript', j);
    }
    const shares = checkPublicShareSet(this.newSet as PublicShareSet).verificationShares;
    for (const j of this.others) {
      if (!receivers.includes(j)) continue;
      const payload = input.broadcast.get(j) as Uint8Array;
      verifyKnowledge(
        suite,
        dkls23Hasher,
        [...this.context, label('share')],
        j,
        shares.get(j) as GroupPoint,
        payload.subarray(32),
      );
    }
    this.done = true;
    wipe(this.seed);
  }

  result(): Output | undefined {
    if (!this.done || this.pending === undefined) return undefined;
    return this.cfg.mode === 'dkg' ? (this.pending as Dkls23KeyShare) : { keyShare: this.pending };
  }

  encodeState(): Uint8Array {
    return encodeConfig(this.cfg)
      .u8(this.done ? 1 : 0)
      .raw(this.seed)
      .bytes(
        this.dealtSecret === undefined ? new Uint8Array(0) : suite.encodeScalar(this.dealtSecret),
      )
      .bytes(encodeMap(this.commitments))
      .bytes(encodeMap(this.senderKeys))
      .bytes(this.transcript ?? new Uint8Array(0))
      .bytes(
        this.newSet === undefined
          ? new Uint8Array(0)
          : encodeSet(new ByteWriter(), this.newSet).finish(),
      )
      .u8(this.pending === undefined ? 0 : this.pending === null ? 1 : 2)
      .bytes(this.pending ? exportDkls23KeyShare(this.pending) : new Uint8Array(0))
      .finish();
  }

  wipe(): void {
    wipe(this.seed);
    this.dealtSecret = undefined;
    for (const keys of this.otReceiverKeys.values()) wipe(...keys);
    this.otReceiverKeys.clear();
    if (this.pending) wipe(this.pending.signingShare);
    this.pending = undefined;
  }

  static load(header: SessionHeader, state: Uint8Array): RoundProtocol<Output> {
    const r = new ByteReader(state, 'dkls23 keygen state');
    const cfg = decodeConfig(r, header.protocol);
    const members = [...new Set([...cfg.dealers, ...cfg.receivers])].sort((a, b) => a - b);
    if (
      members.length !== header.parties.length ||
      members.some((p, i) => p !== header.parties[i]) ||
      cfg.receivers.length < 2
    )
      r.fail('parties');
    try {
      normalizeParties(cfg.dealers, 'dealers');
      normalizeParties(cfg.receivers, 'receivers');
      assertThreshold(cfg.threshold, cfg.receivers.length);
    } catch {
      r.fail('parameters');
    }
    const done = r.u8() === 1;
    const seed = r.take(SEED);
    const dealt = r.bytes(32);
    const commitments = decodeMap(r.bytes(1 << 16), COMMITMENT_LENGTH);
    const senderKeys = decodeMap(r.bytes(1 << 16), POINT);
    const transcript = r.bytes(32);
    const newSetBytes = r.bytes(1 << 16);
    const kind = r.u8();
    const pendingBytes = r.bytes(1 << 22);
    r.end();
    const pending = kind === 0 ? undefined : kind === 1 ? null : importDkls23KeyShare(pendingBytes);
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
      done,
    );
    const result = p.result();
    return done && result !== undefined ? finishedProtocol(3, 3, result, state) : p;
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
  for (let n = r.u8(); n > 0; n--) m.set(r.u16(), r.take(width));
  r.end();
  return m;
}

function encodeConfig(cfg: KeygenConfig): ByteWriter {
  const w = new ByteWriter().u8(cfg.threshold).u8(cfg.dealers.length);
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

function decodeConfig(r: ByteReader, protocol: string): KeygenConfig {
  const threshold = r.u8();
  const list = (): number[] => Array.from({ length: r.u8() }, () => r.u16());
  const dealers = list();
  const receivers = list();
  const old = r.u8() === 1 ? decodeSet(r) : undefined;
  if (old !== undefined) checkPublicShareSet(old, 'ERR_MPC_KEY_SHARE');
  const mode = protocol === dkls23ProtocolIds.dkg ? 'dkg' : 'reshare';
  if ((mode === 'dkg') !== (old === undefined)) r.fail('mode');
  return { mode, dealers, receivers, threshold, old };
}

function randomSeed(random: RandomSource): Uint8Array {
  const seed = random(SEED);
  if (seed.length !== SEED) throw new RangeError('random source returned the wrong length');
  return seed;
}

/** Creates a DKLs23 DKG session (t-of-n among `parties`). */
export function dkls23Dkg(params: Dkls23DkgParams): Session<Dkls23KeyShare> {
  const header = makeHeader(dkls23ProtocolIds.dkg, params.sid, params.parties, params.me);
  assertThreshold(params.threshold, header.parties.length);
  const cfg: KeygenConfig = {
    mode: 'dkg',
    dealers: header.parties,
    receivers: header.parties,
    threshold: params.threshold,
    old: undefined,
  };
  const p = new Dkls23Keygen(
    header,
    cfg,
    randomSeed(params.random ?? defaultRandom),
    undefined,
    new Map(),
    new Map(),
    undefined,
    undefined,
    undefined,
    false,
  );
  return Session.create(header, p as RoundProtocol<Dkls23KeyShare>);
}

function reshareSession(
  protocol: string,
  params: Dkls23ReshareParams,
): Session<Dkls23ReshareResult> {
  const dealers = normalizeParties(params.dealers, 'dealers');
  const receivers = normalizeParties(params.receivers, 'receivers');
  const header = makeHeader(
    protocol,
    params.sid,
    [...new Set([...dealers, ...receivers])],
    params.me,
  );
  if (receivers.length < 2)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'at least two receivers' });
  assertThreshold(params.threshold, receivers.length);
  const isDealer = dealers.includes(params.me);
  let old: PublicShareSet;
  let dealt: bigint | undefined;
  if (isDealer) {
    if (params.keyShare === undefined)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'a dealer needs its key share' });
    const secret = checkDkls23KeyShare(params.keyShare);
    if (params.keyShare.index !== params.me)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'key share index' });
    old = publicShareSet(params.keyShare);
    dealt = suite.mod(lagrange(suite, params.me, dealers) * secret);
  } else {
    if (params.shareSet === undefined)
      throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'old share set required' });
    old = publicShareSet(params.shareSet);
  }
  checkPublicShareSet(old, 'ERR_MPC_INVALID_PARAMS');
  if (dealers.length < old.threshold || dealers.some((d) => !old.parties.includes(d)))
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'dealers' });
  const cfg: KeygenConfig = {
    mode: 'reshare',
    dealers,
    receivers,
    threshold: params.threshold,
    old,
  };
  const p = new Dkls23Keygen(
    header,
    cfg,
    randomSeed(params.random ?? defaultRandom),
    dealt,
    new Map(),
    new Map(),
    undefined,
    undefined,
    undefined,
    false,
  );
  return Session.create(header, p as RoundProtocol<Dkls23ReshareResult>);
}

/** Creates a DKLs23 reshare session: `dealers` re-deal the key to `receivers`. */
export function dkls23Reshare(params: Dkls23ReshareParams): Session<Dkls23ReshareResult> {
  return reshareSession(dkls23ProtocolIds.reshare, params);
}

/** Creates a DKLs23 refresh session: all members re-deal to themselves (same X, chain code). */
export function dkls23Refresh(params: Dkls23RefreshParams): Session<Dkls23ReshareResult> {
  const { keyShare } = params;
  return reshareSession(dkls23ProtocolIds.refresh, {
    sid: params.sid,
    dealers: keyShare.parties,
    receivers: keyShare.parties,
    threshold: keyShare.threshold,
    me: keyShare.index,
    keyShare,
    ...(params.random === undefined ? {} : { random: params.random }),
  });
}

/** Loader for {@link Session.restore} (DKG, reshare and refresh). */
export const loadDkls23Keygen = (
  header: SessionHeader,
  state: Uint8Array,
): RoundProtocol<unknown> => Dkls23Keygen.load(header, state);
