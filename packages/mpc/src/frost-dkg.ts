/**
 * Distributed key generation for FROST: Pedersen's DKG with Feldman VSS and proofs of
 * knowledge (Komlo–Goldberg, *FROST*, SAC 2020, Figure 1 — the DKG RFC 9591 leaves to the
 * application, §1 and Appendix C), hardened with a commit-then-reveal first round so that no
 * party can bias the group public key or the chain code after seeing the others' (Gennaro,
 * Jarecki, Krawczyk, Rabin, *Secure distributed key generation for discrete-log based
 * cryptosystems*, J. Cryptology 2007, §3 — the bias of plain Pedersen DKG).
 *
 * t-of-n among `parties` (Countersign: 3-of-3 cloud-1, cloud-2, signer; t = n is enforced unless
 * the caller opts out). `ctx` = (protocol, sid, parties, threshold). Party i:
 * - Round 1, broadcast: `H("dkg/context", ctx) ‖ com_i`, with
 *   `com_i = H("com", ctx, i, C_i ‖ cc_i, salt_i)` where `f_i` is a random
 *   polynomial of degree t − 1, `C_i = [a_{i,k}·G]`, and `cc_i` a 32-byte chain-code contribution.
 * - Round 2, broadcast: the opening `(C_i, cc_i, salt_i)` and a proof of knowledge of `a_{i,0}`;
 *   point-to-point (the transport encrypts it): `f_i(j)` to every j.
 * - Round 3, broadcast (echo only): after checking every opening, proof, and
 *   `f_j(i)·G = Σ_k i^k·C_{j,k}`, each naming its culprit; the transcript echo then proves
 *   all parties saw the same broadcasts. Output after round 3:
 *   `x_i = Σ_j f_j(i)`, `X = Σ_j C_{j,0}`, `X_k = Σ_j f_j(k)·G` for all k, chain code
 *   `H("chaincode", ctx, cc_1 … cc_n)`.
 * @module
 */
import { equalBytes } from '@noble/curves/utils.js';
import { ByteReader, ByteWriter, constantTimeEqual, u16be, wipe } from './bytes.js';
import { commit, verifyOpening, COMMITMENT_LENGTH, SALT_LENGTH } from './commitment.js';
import {
  curveSuite,
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
import { frostHasher, frostProtocolIds, sessionContext } from './frost-ciphersuite.js';
import { exportKeyShare, redactKeyShare, type KeyShare } from './key-share.js';
import { importKeyShare } from './frost-share-set.js';
import { assertThreshold } from './party-set.js';
import { proofLength, proveKnowledge, verifyKnowledge } from './proof-of-knowledge.js';
import { INSPECT, inspectSummary } from './redact.js';
import {
  makeHeader,
  Session,
  type Expectation,
  type Outgoing,
  type RoundMessages,
  type RoundProtocol,
  type SessionHeader,
} from './session.js';

/** Parameters of {@link dkg}. */
export interface DkgParams {
  readonly curve: CurveName;
  /** Session id, 16..64 bytes, unique per session (e.g. the roster's session id). */
  readonly sid: Uint8Array;
  /**
   * Share indices of all parties. Must come from the platform-signed roster (ARCHITECTURE.md
   * §3, §5), never from a peer's message: it and `threshold` decide who can rebuild the key.
   */
  readonly parties: readonly number[];
  /** My index. */
  readonly me: number;
  /**
   * Signing threshold t. The key model is n-of-n (3-of-3 among cloud-1, cloud-2 and the
   * signer), so t must equal `parties.length` unless {@link allowThresholdBelowPartyCount}.
   * Must come from the platform-signed roster.
   */
  readonly threshold: number;
  /**
   * Allow 2 ≤ t < n. Off by default: with t < n, any t parties together hold the key, which
   * the key model never wants (tests and other deployments only).
   */
  readonly allowThresholdBelowPartyCount?: boolean;
}

/** Test-only options, reachable through `test-hooks.ts` only. */
export interface DkgTestOptions {
  readonly random?: RandomSource;
}

const CHAIN_CODE_LENGTH = 32;
const CONTEXT_LENGTH = 32;

/** Checks the key-model rule t = n unless explicitly relaxed. */
export function assertKeyModelThreshold(
  threshold: unknown,
  n: number,
  allowBelow: boolean,
  what: string,
): asserts threshold is number {
  assertThreshold(threshold, n);
  if (threshold !== n && !allowBelow)
    throw new MpcError('ERR_MPC_INVALID_PARAMS', {
      detail: `threshold must equal the number of ${what} (set allowThresholdBelowPartyCount to relax)`,
    });
}

/**
 * Hash context of a DKG: protocol, sid, parties and threshold, so that parties given different
 * parameters disagree on every commitment and proof, and on the round-1 context digest.
 */
function dkgContext(header: SessionHeader, threshold: number): Uint8Array[] {
  return [
    ...sessionContext(header.protocol, header.sid),
    Uint8Array.from(header.parties.flatMap((p) => [...u16be(p)])),
    Uint8Array.of(threshold),
  ];
}

/** A decoded round-2 opening. */
interface Opening {
  readonly C: GroupPoint[];
  readonly cc: Uint8Array;
  readonly salt: Uint8Array;
  readonly proof: Uint8Array;
  /** The committed bytes `C ‖ cc`. */
  readonly raw: Uint8Array;
}

class FrostDkg implements RoundProtocol<KeyShare> {
  readonly rounds = 3;
  readonly confirmRound = 3;
  readonly #header: SessionHeader;
  readonly #curve: CurveName;
  readonly #threshold: number;
  readonly #allowBelow: boolean;
  readonly #suite: CurveSuite;
  readonly #others: readonly number[];
  readonly #context: Uint8Array[];
  readonly #contextDigest: Uint8Array;
  readonly #random: RandomSource;
  /** f_i's coefficients until round 2 is dealt (secret). */
  #coefficients: bigint[];
  readonly #chainCodePart: Uint8Array;
  readonly #salt: Uint8Array;
  readonly #commitments: Map<number, Uint8Array>;
  /** My key share, from round 3 on (secret). */
  #pending: KeyShare | undefined;
  #done: boolean;
  /** `a_k·G`, computed once (public; three rounds use them). */
  #myCommitmentPoints: GroupPoint[] | undefined;
  /**
   * Round-2 openings as decoded and validated by `checkPayload` on arrival, with the payload
   * they came from, so that round 3 does not decode (and subgroup-check) them again (public).
   */
  readonly #openings = new Map<number, { payload: Uint8Array; opening: Opening }>();

  constructor(
    header: SessionHeader,
    curve: CurveName,
    threshold: number,
    allowBelow: boolean,
    coefficients: bigint[],
    chainCodePart: Uint8Array,
    salt: Uint8Array,
    commitments: Map<number, Uint8Array>,
    pending: KeyShare | undefined,
    done: boolean,
    random: RandomSource,
    myCommitments?: GroupPoint[],
  ) {
    this.#header = header;
    this.#curve = curve;
    this.#threshold = threshold;
    this.#allowBelow = allowBelow;
    this.#coefficients = coefficients;
    this.#chainCodePart = chainCodePart;
    this.#salt = salt;
    this.#commitments = commitments;
    this.#pending = pending;
    this.#done = done;
    this.#random = random;
    this.#myCommitmentPoints = myCommitments;
    this.#suite = curveSuite(curve);
    this.#others = header.parties.filter((p) => p !== header.me);
    this.#context = dkgContext(header, threshold);
    this.#contextDigest = frostHasher.hash('dkg/context', ...this.#context);
  }

  #myCommitments(): GroupPoint[] {
    return (this.#myCommitmentPoints ??= this.#coefficients.map((a) => this.#suite.G.multiply(a)));
  }

  #openingPayload(C: readonly GroupPoint[], cc: Uint8Array): Uint8Array {
    const w = new ByteWriter();
    for (const p of C) w.raw(p.toBytes());
    return w.raw(cc).finish();
  }

  expect(round: number): Expectation {
    return { broadcastFrom: this.#others, p2pFrom: round === 2 ? this.#others : [] };
  }

  start(): Outgoing[] {
    const payload = this.#openingPayload(this.#myCommitments(), this.#chainCodePart);
    // The salt was drawn at creation so that start() is deterministic given the state.
    const fixed = this.#salt;
    const c = commit(frostHasher, this.#context, this.#header.me, payload, () => fixed.slice());
    // Round 1 = context digest ‖ commitment: a party with other parameters is named before
    // anyone deals a share (shares go out in round 2).
    return [{ to: 'broadcast', payload: concatBytes(this.#contextDigest, c.commitment) }];
  }

  checkPayload(round: number, kind: 'broadcast' | 'p2p', from: number, payload: Uint8Array): void {
    if (round === 1) {
      if (payload.length !== CONTEXT_LENGTH + COMMITMENT_LENGTH)
        throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail: 'commitment' });
      if (!constantTimeEqual(payload.subarray(0, CONTEXT_LENGTH), this.#contextDigest))
        throw new MpcError('ERR_MPC_CONTEXT_MISMATCH', {
          culprit: from,
          detail: 'DKG parties or threshold',
        });
    } else if (round === 2 && kind === 'broadcast')
      this.#openings.set(from, {
        payload: payload.slice(),
        opening: this.#decodeOpening(from, payload),
      });
    else if (round === 2) {
      if (payload.length !== 32)
        throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail: 'share' });
      this.#suite.decodeScalar(payload, from, true);
    } else if (payload.length !== 0)
      throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail: 'confirmation' });
  }

  /** j's opening: as validated by checkPayload if the bytes are the same, else decoded now. */
  #openingOf(j: number, payload: Uint8Array): Opening {
    const seen = this.#openings.get(j);
    return seen !== undefined && equalBytes(seen.payload, payload)
      ? seen.opening
      : this.#decodeOpening(j, payload);
  }

  #decodeOpening(from: number, payload: Uint8Array): Opening {
    const suite = this.#suite;
    const r = new ByteReader(payload, 'dkg opening', from);
    const C: GroupPoint[] = [];
    for (let k = 0; k < this.#threshold; k++)
      C.push(suite.decodePoint(r.take(suite.pointLength), from));
    const cc = r.take(CHAIN_CODE_LENGTH);
    const salt = r.take(SALT_LENGTH);
    const proof = r.take(proofLength(suite));
    r.end();
    return {
      C,
      cc,
      salt,
      proof,
      raw: payload.slice(0, this.#threshold * suite.pointLength + CHAIN_CODE_LENGTH),
    };
  }

  advance(round: number, input: RoundMessages): Outgoing[] {
    if (round === 1) return this.#round2(input);
    if (round === 2) return this.#round3(input);
    if (this.#pending === undefined) throw new MpcError('ERR_MPC_SESSION_STATE');
    this.#done = true;
    return [];
  }

  #round2(input: RoundMessages): Outgoing[] {
    for (const j of this.#others)
      this.#commitments.set(
        j,
        (input.broadcast.get(j) as Uint8Array).slice(CONTEXT_LENGTH, CONTEXT_LENGTH + 32),
      );
    const suite = this.#suite;
    const header = this.#header;
    const C = this.#myCommitments();
    const proof = proveKnowledge(
      suite,
      frostHasher,
      this.#context,
      header.me,
      this.#coefficients[0] as bigint,
      this.#random,
    );
    const opening = new ByteWriter()
      .raw(this.#openingPayload(C, this.#chainCodePart))
      .raw(this.#salt)
      .raw(proof)
      .finish();
    const out: Outgoing[] = [{ to: 'broadcast', payload: opening }];
    for (const j of this.#others)
      out.push({
        to: j,
        payload: suite.encodeScalar(evaluatePolynomial(suite, this.#coefficients, j)),
      });
    return out;
  }

  #round3(input: RoundMessages): Outgoing[] {
    const suite = this.#suite;
    const header = this.#header;
    const all = new Map<number, { C: GroupPoint[]; cc: Uint8Array }>();
    all.set(header.me, { C: this.#myCommitments(), cc: this.#chainCodePart });
    let share = evaluatePolynomial(suite, this.#coefficients, header.me);
    for (const j of this.#others) {
      const o = this.#openingOf(j, input.broadcast.get(j) as Uint8Array);
      verifyOpening(
        frostHasher,
        this.#context,
        j,
        this.#commitments.get(j) as Uint8Array,
        o.raw,
        o.salt,
      );
      verifyKnowledge(suite, frostHasher, this.#context, j, o.C[0] as GroupPoint, o.proof);
      const fji = suite.decodeScalar(input.p2p.get(j) as Uint8Array, j, true);
      verifyShare(suite, o.C, header.me, fji, j);
      share = suite.mod(share + fji);
      all.set(j, { C: o.C, cc: o.cc });
    }
    // Aggregate commitments: C_k = Σ_j C_{j,k}; X = C_0; X_m = Σ_k m^k·C_k.
    const C: GroupPoint[] = [];
    for (let k = 0; k < this.#threshold; k++) {
      let acc = suite.ZERO;
      for (const p of header.parties)
        acc = acc.add((all.get(p) as { C: GroupPoint[] }).C[k] as GroupPoint);
      C.push(acc);
    }
    const X = C[0] as GroupPoint;
    const verificationShares = header.parties.map((m) => evaluateCommitments(suite, C, m));
    if (X.is0() || verificationShares.some((v) => v.is0()) || share === 0n)
      throw new MpcError('ERR_MPC_PUBLIC_KEY_MISMATCH', { detail: 'degenerate key' });
    const chainCode = frostHasher.hash(
      'chaincode',
      ...this.#context,
      ...header.parties.map((p) => (all.get(p) as { cc: Uint8Array }).cc),
    );
    const signingShare = suite.encodeScalar(share);
    share = 0n;
    this.#pending = redactKeyShare({
      curve: this.#curve,
      threshold: this.#threshold,
      parties: [...header.parties],
      index: header.me,
      signingShare,
      publicKey: X.toBytes(),
      chainCode,
      verificationShares: verificationShares.map((v) => v.toBytes()),
    });
    wipePolynomial({ coefficients: this.#coefficients, commitments: [] });
    this.#coefficients = [];
    this.#openings.clear();
    return [{ to: 'broadcast', payload: new Uint8Array(0) }];
  }

  result(): KeyShare | undefined {
    return this.#done ? this.#pending : undefined;
  }

  encodeState(): Uint8Array {
    const w = new ByteWriter()
      .u8(this.#threshold)
      .u8(this.#allowBelow ? 1 : 0)
      .u8(this.#done ? 1 : 0);
    w.u8(this.#coefficients.length);
    for (const a of this.#coefficients) w.raw(this.#suite.encodeScalar(a));
    w.raw(this.#chainCodePart).raw(this.#salt);
    w.u8(this.#commitments.size);
    for (const [j, c] of this.#commitments) w.u16(j).raw(c);
    w.bytes(this.#pending === undefined ? new Uint8Array(0) : exportKeyShare(this.#pending));
    return w.finish();
  }

  static load(header: SessionHeader, state: Uint8Array): FrostDkg {
    const curve = curveFromProtocol(header.protocol, 'dkg');
    const suite = curveSuite(curve);
    const r = new ByteReader(state, 'dkg state');
    const threshold = r.u8();
    const allowBelow = r.u8();
    if (allowBelow > 1) r.fail('flags');
    assertKeyModelThreshold(threshold, header.parties.length, allowBelow === 1, 'parties');
    const done = r.u8();
    if (done > 1) r.fail('done flag');
    const coefficients: bigint[] = [];
    for (let n = r.u8(); n > 0; n--) coefficients.push(suite.decodeScalar(r.take(32)));
    if (coefficients.length !== 0 && coefficients.length !== threshold) r.fail('coefficients');
    const cc = r.take(CHAIN_CODE_LENGTH);
    const salt = r.take(SALT_LENGTH);
    const commitments = new Map<number, Uint8Array>();
    for (let n = r.u8(); n > 0; n--) {
      const j = r.u16();
      if (j === header.me || !header.parties.includes(j) || commitments.has(j))
        r.fail('commitment sender');
      commitments.set(j, r.take(COMMITMENT_LENGTH));
    }
    const pendingBytes = r.bytes(4096);
    r.end();
    const pending = pendingBytes.length === 0 ? undefined : importKeyShare(pendingBytes);
    return new FrostDkg(
      header,
      curve,
      threshold,
      allowBelow === 1,
      coefficients,
      cc,
      salt,
      commitments,
      pending,
      done === 1,
      defaultRandom,
    );
  }

  wipe(): void {
    wipePolynomial({ coefficients: this.#coefficients, commitments: [] });
    this.#coefficients = [];
    this.#openings.clear();
    wipe(this.#chainCodePart, this.#salt);
    if (this.#pending !== undefined) wipe(this.#pending.signingShare);
    this.#pending = undefined;
  }

  toJSON(): Record<string, unknown> {
    return {
      protocol: this.#header.protocol,
      me: this.#header.me,
      parties: [...this.#header.parties],
      threshold: this.#threshold,
      done: this.#done,
    };
  }

  [INSPECT](_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string): string {
    return inspectSummary('FrostDkg', this.toJSON(), options, inspect);
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Extracts the curve from a FROST key-generation protocol id. */
export function curveFromProtocol(
  protocol: string,
  kind: 'dkg' | 'reshare' | 'refresh',
): CurveName {
  for (const c of ['ed25519', 'secp256k1'] as const)
    if (protocol === frostProtocolIds[kind](c)) return c;
  throw new MpcError('ERR_MPC_MALFORMED', { detail: 'protocol id' });
}

function createDkg(params: DkgParams, test: DkgTestOptions): Session<KeyShare> {
  const suite = curveSuite(params.curve);
  const header = makeHeader(
    frostProtocolIds.dkg(params.curve),
    params.sid,
    params.parties,
    params.me,
  );
  const allowBelow = params.allowThresholdBelowPartyCount === true;
  assertKeyModelThreshold(params.threshold, header.parties.length, allowBelow, 'parties');
  const random = test.random ?? defaultRandom;
  const poly = samplePolynomial(suite, params.threshold, undefined, random);
  const protocol = new FrostDkg(
    header,
    params.curve,
    params.threshold,
    allowBelow,
    poly.coefficients,
    random(CHAIN_CODE_LENGTH),
    random(SALT_LENGTH),
    new Map(),
    undefined,
    false,
    random,
    [...poly.commitments],
  );
  return Session.create(header, protocol);
}

/**
 * Creates a DKG session; `start()` it and route its messages. `parties` and `threshold` must
 * come from the platform-signed roster; by default t = n (the key model, ARCHITECTURE.md §3).
 * Every party checks in round 1, before any share is dealt, that all agree on them.
 */
export function dkg(params: DkgParams): Session<KeyShare> {
  return createDkg(params, {});
}

/** Test-only: {@link dkg} with injected randomness. */
export function dkgForTesting(params: DkgParams, test: DkgTestOptions): Session<KeyShare> {
  return createDkg(params, test);
}

/** Loader for {@link Session.restore}. */
export const loadDkg = (header: SessionHeader, state: Uint8Array): RoundProtocol<KeyShare> =>
  FrostDkg.load(header, state);
