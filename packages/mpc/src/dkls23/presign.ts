/**
 * DKLs23 presigning: rounds 1–2 and the local round 3 of Protocol 3.6 (Doerner–Kondi–Lee–
 * shelat, *Threshold ECDSA in Three Rounds*, ePrint 2023/765, §3, Protocol 3.6; the third round
 * there is the online round, `sign.ts`), as fixed by specs/dkls23.md, "Signing".
 *
 * Signing set S (|S| ≥ t, me included). Party i:
 * - Setup: sk_i = λ_i·x_i + ζ_i with ζ_i = Σ_{j≠i} ±Hq("zero-share", s_ij, ctx) (+ if i < j),
 *   so Σ_S ζ = 0 and Σ_S sk = x; pk_i = sk_i·G.
 * - R1: r_i, φ_i random; R_i = r_i·G; broadcast com(R_i); to each j, as Bob of the pair
 *   (Alice = j, Bob = i), the OT-extension message of the RVOLE (`rvole.ts`).
 * - R2 (with the transcript echo): broadcast pk_i and the opening of R_i; to each j, as Alice of
 *   (Alice = i, Bob = j) with a = (r_i, sk_i): KOS check (a failure bans j), then τ, η, μ,
 *   Γu = c_u·G, Γv = c_v·G; and, as Bob of (j, i), ψ_{i,j} = φ_i − χ_{i,j}.
 * - R3 (local): every opening; R = Σ R_j ≠ O; for every j as Bob: the μ check (bans j), then
 *   χ_{i,j}·R_j = d_u·G + Γu_j and χ_{i,j}·pk_j = d_v·G + Γv_j; Σ pk_j = X. Then
 *   u_i = r_i·(φ_i + Σ ψ_{j,i}) + Σ (c_u + d_u), v_i = sk_i·(φ_i + Σ ψ_{j,i}) + Σ (c_v + d_v),
 *   so Σ u = r·φ and Σ v = x·φ. Output: the presignature (sid, S, R, φ_i, u_i, v_i).
 *
 * One use per sid (review 2026-11-24, C1). sk_i and every pair id H("pair", ctx, alice, bob,
 * "rvole") are functions of the sid, so two runs under one sid would let each Bob solve
 * τ + τ' = −(α + α') for Alice's (r_i, sk_i). Hence:
 * - {@link dkls23Presign} claims (share set, me, sid) in the caller's durable
 *   {@link PresignSessionRegistry} before the session exists, and refuses a claimed sid
 *   (`ERR_MPC_SID_REUSED`);
 * - every one-time value (r_i, φ_i, the salt, Bob's n_B, β and padding, Alice's n_A and â, ρ)
 *   is drawn fresh when used, kept in `#private` memory and wiped after its single use; it is
 *   never serialized (session-framework.md, "Randomness and persisted state"). A state saved
 *   between creation and the finished presignature records only its phase and refuses to load
 *   (`ERR_MPC_SID_REUSED` before `start()`, `ERR_MPC_NONCE_REUSE` after; C2): the orchestrator
 *   starts over under a fresh sid. The finished presignature's state loads.
 * - the per-use OT nonces n_B and n_A (`ot-extension.ts`) make a repeated pair id harmless even
 *   if the claim were bypassed (docs/dkls23-notes.md, "Per-use nonces").
 *
 * A failed KOS or μ check with j destroys both OT setups with j, in the caller's key share
 * object (review H2); the error says which (`Dkls23CheckError.otSetupDestroyed`), survives a
 * restart with the failed session (session state v3), and `applyDkls23Ban` (`ban.ts`) applies
 * it to a key share reloaded from storage. It is also recorded in the process-wide ban table
 * (`ot-ban-table.ts`), which every session checks at creation and again right before each use of
 * a setup — Bob before his round-1 extension message, Alice before her round-2 KOS check — so
 * sessions in flight on other copies of the key share stop too (review 2026-11-27, F1).
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
import { MpcError } from '../errors.js';
import { lagrange } from '../key-share.js';
import { normalizeParties } from '../party-set.js';
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
import { Dkls23CheckError } from './check-error.js';
import { SecretScalar } from './native-ecdh.js';
import {
  dkls23Hasher,
  dkls23ProtocolIds,
  fastHashToScalar,
  modQ,
  pairSessionId,
  sessionContext,
} from './hashing.js';
import {
  checkDkls23KeyShare,
  shareSetId,
  type Dkls23KeyShare,
  type Dkls23Pair,
} from './key-share.js';
import { assertOtPairNotBanned, banOtSetups, isOtPairBanned } from './ot-ban-table.js';
import { destroyOtSetup, extensionMessageLength } from './ot-extension.js';
import {
  exportPresignature,
  importPresignature,
  redactPresignature,
  type Dkls23Presignature,
} from './presignature.js';
import {
  checkAliceMessage,
  gadget,
  rvoleAliceRespond,
  rvoleBobFinish,
  rvoleBobStart,
  RVOLE_ALICE_MESSAGE_LENGTH,
  RVOLE_XI,
  type RvoleBobState,
} from './rvole.js';

const suite = secp256k1Suite;
const POINT = 33;
const R2_BROADCAST = POINT + POINT + SALT_LENGTH;
const R2_P2P = RVOLE_ALICE_MESSAGE_LENGTH + POINT + POINT + 32;

/**
 * Where a party claims presigning session ids. Implemented by the caller on durable storage:
 * `claim` must record `id` atomically and durably *before* resolving `true`, and resolve
 * `false` if `id` was ever recorded before — across restarts, restores from backup and
 * processes sharing the share set (e.g. a unique key in the co-signer's database, written in
 * the same transaction as nothing else). Never forget a claim.
 */
export interface PresignSessionRegistry {
  claim(id: Uint8Array): Promise<boolean>;
}

/**
 * The first fields of every hash of a presigning session (commitments, zero shares, pair ids):
 * protocol id, sid and share-set id. The share set is there so that one sid in two share sets
 * of the same parties (a cloud co-signer has one index in every set of a workspace) gives two
 * unrelated `sid_pair`s and zero shares (review 2026-11-27, F4).
 */
export function presignContext(sid: Uint8Array, setId: Uint8Array): Uint8Array[] {
  return [...sessionContext(dkls23ProtocolIds.presign, sid), setId];
}

/**
 * The id claimed for one presigning session of one party:
 * H("presign-session", share-set id, u16 me, sid). `me` is included so that one registry may
 * serve several parties (tests, single-process tools) without their claims colliding.
 */
export function presignSessionId(setId: Uint8Array, me: number, sid: Uint8Array): Uint8Array {
  return dkls23Hasher.hash('presign-session', setId, u16be(me), sid);
}

/**
 * A registry in process memory. **Not durable**: a restart forgets every claim, which is
 * exactly the case the registry exists for. Tests and examples only; a co-signer must back
 * {@link PresignSessionRegistry} with its database.
 */
export class NonDurablePresignSessionRegistry implements PresignSessionRegistry {
  readonly #claimed = new Set<string>();

  claim(id: Uint8Array): Promise<boolean> {
    const key = Buffer.from(id).toString('hex');
    if (this.#claimed.has(key)) return Promise.resolve(false);
    this.#claimed.add(key);
    return Promise.resolve(true);
  }
}

/** Parameters of {@link dkls23Presign}. */
export interface Dkls23PresignParams {
  /** Session id, 16..64 bytes, never used before with this share set (claimed in `registry`). */
  readonly sid: Uint8Array;
  /**
   * The caller's key share object: a failed OT check destroys setups in it (persist it after
   * any `Dkls23CheckError`, or apply the error to the stored copy with `applyDkls23Ban`).
   */
  readonly keyShare: Dkls23KeyShare;
  /** The signing set S: at least `threshold` members of the share set, me included. */
  readonly signers: readonly number[];
  /** Durable claim of the sid, awaited before the session exists. */
  readonly registry: PresignSessionRegistry;
}

/**
 * Test-only options of {@link dkls23PresignForTesting}; reachable through `test-hooks.ts` only,
 * never from the package entry point (review 2026-11-27, F2: a reproducible source would bring
 * back the same r_i, φ_i and OT nonces in every session).
 */
export interface Dkls23PresignTestOptions {
  /** Randomness instead of the CSPRNG. */
  readonly random?: RandomSource;
}

interface BobCache {
  readonly state: RvoleBobState;
  readonly chi: bigint;
  readonly gadget: bigint[];
}

/** My one-time values of this session: in memory only, from start() to round 3 (secret). */
interface OneTime {
  readonly r: bigint;
  readonly phi: bigint;
  readonly sk: bigint;
  /** R_i = r_i·G, and its encoding. */
  readonly R: GroupPoint;
  readonly RBytes: Uint8Array;
  /**
   * My fixed-base multiplications (r_i, sk_i, c_u, c_v, then the Γ checks' d_u + ρ·d_v) in one
   * OpenSSL context, each scalar overwriting the last, wiped once in #dropSecrets: natively
   * 0.28 ms each against noble's 0.40 ms plus 0.09 ms for the encoding, and the wipe (itself a
   * multiplication) paid once instead of per scalar (native-ecdh.ts).
   */
  readonly base: SecretScalar;
  /** pk_i = sk_i·G, once computed in round 2. */
  pk: GroupPoint | undefined;
  readonly salt: Uint8Array;
}

/**
 * Where a party is, and what its state may hold (session-framework.md, "Randomness and
 * persisted state"):
 * - `fresh`: created, sid claimed, nothing drawn. The state holds the phase only and refuses to
 *   load (`ERR_MPC_SID_REUSED`): a restored copy would run a second time under the claimed sid.
 * - `running`: one-time values drawn (memory only). The state holds the phase only and refuses
 *   to load (`ERR_MPC_NONCE_REUSE`).
 * - `done`: the presignature; the state holds it and loads.
 * Tag 0 was the v1 state with the seed of all one-time values (review C2); it is refused.
 */
type Phase = 'fresh' | 'running' | 'done';
const PHASE_TAG = { legacySeeded: 0, done: 1, fresh: 2, running: 3 } as const;

class Dkls23Presign implements RoundProtocol<Dkls23Presignature> {
  readonly rounds = 2;
  readonly confirmRound = 2;
  readonly #header: SessionHeader;
  /** The caller's key share: setups are destroyed in it on a failed OT check (H2). */
  readonly #keyShare: Dkls23KeyShare;
  /** Id of the share set: the key of its bans in the process-wide table (`ot-ban-table.ts`). */
  readonly #setId: Uint8Array;
  readonly #context: Uint8Array[];
  readonly #others: readonly number[];
  readonly #pairs = new Map<number, Dkls23Pair>();
  readonly #random: RandomSource;
  #phase: Phase = 'fresh';
  /** x_i, from the one validation of the key share, until sk_i is derived at start() (secret). */
  #secret: bigint | undefined;
  #oneTime: OneTime | undefined;
  /** My Bob side with each j (secret: β and the extension rows). */
  readonly #bob = new Map<number, BobCache>();
  /** (c_u, c_v) of each pair where I am Alice, kept from R2 to R3 (secret). */
  readonly #alice = new Map<number, [bigint, bigint]>();
  readonly #commitments = new Map<number, Uint8Array>();
  /**
   * Points of the round-2 payloads, decoded (strictly) by checkPayload on arrival and reused in
   * round 3 if the payload is byte for byte the one checked: a decompression is a square root,
   * ~0.1 ms, and there are four per peer. Public values.
   */
  readonly #checkedPoints = new Map<string, { payload: Uint8Array; points: GroupPoint[] }>();
  #presignature: Dkls23Presignature | undefined;

  constructor(
    header: SessionHeader,
    keyShare: Dkls23KeyShare,
    setId: Uint8Array,
    secret: bigint,
    random: RandomSource,
  ) {
    this.#header = header;
    this.#keyShare = keyShare;
    this.#setId = setId;
    this.#secret = secret;
    this.#random = random;
    this.#context = presignContext(header.sid, setId);
    this.#others = header.parties.filter((p) => p !== header.me);
    for (const p of keyShare.pairs) this.#pairs.set(p.party, p);
    for (const j of this.#others) {
      const p = this.#pairs.get(j);
      if (p === undefined) throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'signers' });
      // A banned setup is never used again ([KOS15] selective abort leaks Δ bit by bit). A ban
      // this process knows of but this copy does not is written into it too, so a caller that
      // persists the object keeps it.
      if (isOtPairBanned(setId, header.me, j)) {
        destroyOtSetup(p.otSender);
        destroyOtSetup(p.otReceiver);
      }
      if (p.otSender.destroyed || p.otReceiver.destroyed)
        throw new MpcError('ERR_MPC_OT_SETUP_DESTROYED', { culprit: j });
    }
  }

  /**
   * Refuses to use the setups with j if any session of this process banned them since this one
   * was created (review 2026-11-27, F1): called synchronously right before each use, so a
   * session on another copy of the key share that is still in flight stops here instead of
   * giving the prober one more bit of Δ.
   */
  #assertUsable(j: number): void {
    assertOtPairNotBanned(this.#setId, this.#header.me, j);
  }

  #pair(j: number): Dkls23Pair {
    return this.#pairs.get(j) as Dkls23Pair;
  }

  /** My one-time values; absent outside start()..round 3 of this very session. */
  #current(): OneTime {
    if (this.#phase !== 'running' || this.#oneTime === undefined)
      throw new MpcError('ERR_MPC_NONCE_REUSE');
    return this.#oneTime;
  }

  /** sk_i = λ_i·x_i + ζ_i (specs/dkls23.md, "Signing"). */
  #signingKey(secret: bigint): bigint {
    const { me, parties } = this.#header;
    let zeta = 0n;
    for (const j of this.#others) {
      // Hq on native SHA-256 (the same RFC 9380 function as dkls23Hasher.hashToScalar).
      const z = fastHashToScalar('zero-share', this.#pair(j).zeroSeed, ...this.#context);
      zeta += me < j ? z : -z;
    }
    return modQ(lagrange(suite, me, parties) * secret + zeta);
  }

  #sidOf(alice: number, bob: number): Uint8Array {
    return pairSessionId(this.#context, alice, bob, 'rvole');
  }

  /**
   * Runs an OT-extension or RVOLE step with j. A failed KOS or μ check (`ERR_MPC_OT_CHECK`)
   * destroys *both* setups with j, not only the one the check ran on: a party caught probing one
   * direction is banned in both, and the error lists both (review 2026-11-24, H2).
   */
  #withOtBan<T>(j: number, step: () => T): T {
    try {
      return step();
    } catch (e) {
      if (!(e instanceof Dkls23CheckError) || e.code !== 'ERR_MPC_OT_CHECK') throw e;
      const { me } = this.#header;
      // First in the process-wide table, so every other session of this share set stops (F1).
      banOtSetups(this.#setId, me, j);
      const pair = this.#pair(j);
      destroyOtSetup(pair.otSender);
      destroyOtSetup(pair.otReceiver);
      throw new Dkls23CheckError(
        e.check,
        j,
        [
          [me, j],
          [j, me],
        ],
        undefined,
        this.#setId,
      );
    }
  }

  expect(): Expectation {
    return { broadcastFrom: this.#others, p2pFrom: this.#others };
  }

  start(): Outgoing[] {
    const secret = this.#secret;
    if (this.#phase !== 'fresh' || secret === undefined) throw new MpcError('ERR_MPC_NONCE_REUSE');
    // Bob's use of every setup is below: a ban since creation stops the session before it.
    for (const j of this.#others) this.#assertUsable(j);
    this.#phase = 'running';
    this.#secret = undefined;
    const r = suite.randomScalar(this.#random);
    const phi = suite.randomScalar(this.#random);
    const base = new SecretScalar(r);
    const RBytes = base.publicKey();
    const R = base.publicPoint();
    const c = commit(dkls23Hasher, this.#context, this.#header.me, RBytes, this.#random);
    const sk = this.#signingKey(secret);
    this.#oneTime = { r, phi, sk, R, RBytes, base, pk: undefined, salt: c.salt };
    const out: Outgoing[] = [{ to: 'broadcast', payload: c.commitment }];
    for (const j of this.#others) {
      const sidPair = this.#sidOf(j, this.#header.me);
      const g = gadget(sidPair);
      // n_B, β and the padding: fresh, here, for this use only.
      const { message, chi, state } = rvoleBobStart(
        this.#pair(j).otReceiver,
        sidPair,
        this.#random,
        g,
      );
      this.#bob.set(j, { state, chi, gadget: g });
      out.push({ to: j, payload: message });
    }
    return out;
  }

  checkPayload(round: number, kind: 'broadcast' | 'p2p', from: number, payload: Uint8Array): void {
    const bad = (detail: string): never => {
      throw new MpcError('ERR_MPC_MALFORMED', { culprit: from, detail });
    };
    if (round === 1) {
      const expected = kind === 'broadcast' ? COMMITMENT_LENGTH : extensionMessageLength(RVOLE_XI);
      if (payload.length !== expected) bad(kind === 'broadcast' ? 'commitment' : 'extension');
    } else if (kind === 'broadcast') {
      if (payload.length !== R2_BROADCAST) bad('opening');
      this.#checkedPoints.set(`b${from}`, {
        payload: payload.slice(),
        points: [
          suite.decodePoint(payload.subarray(0, POINT), from),
          suite.decodePoint(payload.subarray(POINT, 2 * POINT), from),
        ],
      });
    } else {
      if (payload.length !== R2_P2P) bad('multiplication');
      // Range checks only: round 3 decodes τ once, into the BigInts it needs.
      checkAliceMessage(payload.subarray(0, RVOLE_ALICE_MESSAGE_LENGTH), from);
      const rest = payload.subarray(RVOLE_ALICE_MESSAGE_LENGTH);
      const points = [
        suite.decodePoint(rest.subarray(0, POINT), from),
        suite.decodePoint(rest.subarray(POINT, 2 * POINT), from),
      ];
      suite.decodeScalar(rest.subarray(2 * POINT), from, true);
      this.#checkedPoints.set(`p${from}`, { payload: rest.slice(0, 2 * POINT), points });
    }
  }

  /**
   * The two points at the start of `bytes` (a round-2 payload of `from`, or its part after the
   * RVOLE message): from checkPayload's decoding if these are the bytes it checked, else
   * decoded again, strictly.
   */
  #pointsOf(kind: 'b' | 'p', from: number, bytes: Uint8Array): [GroupPoint, GroupPoint] {
    const checked = this.#checkedPoints.get(`${kind}${from}`);
    const head = bytes.subarray(0, 2 * POINT);
    if (
      checked !== undefined &&
      Buffer.from(checked.payload.buffer, checked.payload.byteOffset, 2 * POINT).equals(head)
    )
      return [checked.points[0] as GroupPoint, checked.points[1] as GroupPoint];
    return [
      suite.decodePoint(head.subarray(0, POINT), from),
      suite.decodePoint(head.subarray(POINT), from),
    ];
  }

  advance(round: number, input: RoundMessages): Outgoing[] {
    return round === 1 ? this.#round2(input) : this.#round3(input);
  }

  #round2(input: RoundMessages): Outgoing[] {
    const mine = this.#current();
    for (const [j, c] of input.broadcast) this.#commitments.set(j, c.slice());
    mine.pk = mine.base.replace(mine.sk).publicPoint();
    const out: Outgoing[] = [
      {
        to: 'broadcast',
        payload: new ByteWriter()
          .raw(mine.base.publicKey())
          .raw(mine.RBytes)
          .raw(mine.salt)
          .finish(),
      },
    ];
    for (const j of this.#others) {
      const sidPair = this.#sidOf(this.#header.me, j);
      // Alice's use of Δ: a ban since round 1 (another session's KOS failure) stops it here.
      this.#assertUsable(j);
      // KOS check inside; n_A and â are drawn fresh inside, for this use only.
      const { message, c } = this.#withOtBan(j, () =>
        rvoleAliceRespond(
          this.#pair(j).otSender,
          sidPair,
          input.p2p.get(j) as Uint8Array,
          [mine.r, mine.sk],
          this.#random,
        ),
      );
      this.#alice.set(j, c);
      const psi = modQ(mine.phi - (this.#bob.get(j) as BobCache).chi);
      out.push({
        to: j,
        payload: new ByteWriter()
          .raw(message)
          .raw(mine.base.replace(c[0]).publicKey())
          .raw(mine.base.replace(c[1]).publicKey())
          .raw(suite.encodeScalar(psi))
          .finish(),
      });
    }
    return out;
  }

  #round3(input: RoundMessages): Outgoing[] {
    const mine = this.#current();
    const { me, parties } = this.#header;
    const Rs = new Map<number, GroupPoint>();
    const pks = new Map<number, GroupPoint>();
    for (const j of this.#others) {
      const b = input.broadcast.get(j) as Uint8Array;
      const R = b.subarray(POINT, 2 * POINT);
      verifyOpening(
        dkls23Hasher,
        this.#context,
        j,
        this.#commitments.get(j) as Uint8Array,
        R,
        b.subarray(2 * POINT),
      );
      const [pk, Rj] = this.#pointsOf('b', j, b);
      pks.set(j, pk);
      Rs.set(j, Rj);
    }
    let R = mine.R;
    for (const Rj of Rs.values()) R = R.add(Rj);
    // With two signers the other one chose its R_j (committed before seeing mine): it is at
    // fault. With more, R = O needs collusion and names nobody in particular.
    if (R.is0()) throw this.#unattributed('r-not-zero');
    let psiSum = mine.phi;
    let uAcc = 0n;
    let vAcc = 0n;
    for (const j of this.#others) {
      const p2p = input.p2p.get(j) as Uint8Array;
      const bob = this.#bob.get(j) as BobCache;
      // μ check inside ([DKLs19] §5); a failure bans j and destroys both setups with j.
      const [du, dv] = this.#withOtBan(j, () =>
        rvoleBobFinish(
          this.#pair(j).otReceiver,
          this.#sidOf(j, me),
          bob.state,
          p2p.subarray(0, RVOLE_ALICE_MESSAGE_LENGTH),
          bob.gadget,
        ),
      );
      const rest = p2p.subarray(RVOLE_ALICE_MESSAGE_LENGTH);
      const [gammaU, gammaV] = this.#pointsOf('p', j, rest);
      const psi = suite.decodeScalar(rest.subarray(2 * POINT), j, true);
      this.#checkGammas(
        j,
        bob.chi,
        Rs.get(j) as GroupPoint,
        pks.get(j) as GroupPoint,
        du,
        dv,
        gammaU,
        gammaV,
      );
      const [cu, cv] = this.#alice.get(j) as [bigint, bigint];
      psiSum += psi;
      uAcc += cu + du;
      vAcc += cv + dv;
    }
    let pkSum = mine.pk ?? suite.G.multiply(mine.sk);
    for (const pk of pks.values()) pkSum = pkSum.add(pk);
    if (!pkSum.equals(suite.decodePoint(this.#keyShare.publicKey)))
      throw this.#unattributed('sum-pk');
    psiSum = modQ(psiSum);
    const u = modQ(mine.r * psiSum + uAcc);
    const v = modQ(mine.sk * psiSum + vAcc);
    this.#presignature = redactPresignature({
      shareSetId: this.#setId.slice(),
      sid: this.#header.sid.slice(),
      signers: [...parties],
      index: me,
      R: R.toBytes(),
      phi: suite.encodeScalar(mine.phi),
      u: suite.encodeScalar(u),
      v: suite.encodeScalar(v),
    });
    this.#phase = 'done';
    this.#dropSecrets();
    return [];
  }

  /**
   * χ·R_j = d_u·G + Γu and χ·pk_j = d_v·G + Γv, batched: with a fresh random ρ known only to
   * me ({@link batchCoefficient}), χ·(R_j + ρ·pk_j) = (d_u + ρ·d_v)·G + Γu + ρ·Γv fails except
   * with probability 2^-128 if either equation does, and costs one multiplication of an
   * arbitrary point by the secret χ instead of two (docs/dkls23-notes.md, item 7). On failure
   * both are re-checked to say which.
   */
  #checkGammas(
    j: number,
    chi: bigint,
    Rj: GroupPoint,
    pkj: GroupPoint,
    du: bigint,
    dv: bigint,
    gammaU: GroupPoint,
    gammaV: GroupPoint,
  ): void {
    // ρ: drawn fresh for this check (never derived from stored state, review note 7), so j
    // cannot predict it when choosing Γu and Γv.
    const rho = batchCoefficient(this.#random);
    // ρ is only a random combination coefficient (not a key): public-time arithmetic is fine.
    const lhs = Rj.add(pkj.multiplyUnsafe(rho)).multiply(chi);
    const k = modQ(du + rho * dv);
    const rhs = (k === 0n ? suite.ZERO : this.#current().base.replace(k).publicPoint())
      .add(gammaU)
      .add(gammaV.multiplyUnsafe(rho));
    if (lhs.equals(rhs)) return;
    const check = Rj.multiply(chi).equals(mulG(du).add(gammaU)) ? 'gamma-v' : 'gamma-u';
    throw new Dkls23CheckError(check, j, [], undefined, this.#setId);
  }

  /**
   * A failed global check (Σ pk = X, R ≠ O): with one other signer it is at fault; with more,
   * one of them is, and the error lists them as suspects (docs/dkls23-notes.md, item 8).
   */
  #unattributed(check: 'sum-pk' | 'r-not-zero'): Dkls23CheckError {
    return this.#others.length === 1
      ? new Dkls23CheckError(check, this.#others[0], [], undefined, this.#setId)
      : new Dkls23CheckError(check, undefined, [], this.#others, this.#setId);
  }

  /** Drops every one-time value (bigints cannot be overwritten: their references go). */
  #dropSecrets(): void {
    this.#secret = undefined;
    if (this.#oneTime !== undefined) {
      wipe(this.#oneTime.salt);
      this.#oneTime.base.wipe();
    }
    this.#oneTime = undefined;
    for (const b of this.#bob.values()) wipe(b.state.choices, b.state.rows);
    this.#bob.clear();
    for (const c of this.#alice.values()) c.fill(0n);
    this.#alice.clear();
    this.#checkedPoints.clear();
  }

  result(): Dkls23Presignature | undefined {
    return this.#presignature;
  }

  encodeState(): Uint8Array {
    const w = new ByteWriter().u8(PHASE_TAG[this.#phase]);
    // Before the presignature exists nothing else is written: not the key share, not a seed.
    if (this.#phase === 'done')
      w.bytes(exportPresignature(this.#presignature as Dkls23Presignature));
    return w.finish();
  }

  wipe(): void {
    this.#dropSecrets();
    if (this.#presignature !== undefined)
      wipe(this.#presignature.phi, this.#presignature.u, this.#presignature.v);
  }

  toJSON(): Record<string, unknown> {
    return {
      protocol: this.#header.protocol,
      me: this.#header.me,
      signers: [...this.#header.parties],
      phase: this.#phase,
    };
  }

  [INSPECT](_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string): string {
    return inspectSummary('Dkls23Presign', this.toJSON(), options, inspect);
  }

  static load(header: SessionHeader, state: Uint8Array): RoundProtocol<Dkls23Presignature> {
    const r = new ByteReader(state, 'dkls23 presign state');
    const tag = r.u8();
    switch (tag) {
      case PHASE_TAG.done: {
        const p = importPresignature(r.bytes(1024));
        r.end();
        if (
          p.index !== header.me ||
          p.sid.length !== header.sid.length ||
          !constantTimeEqual(p.sid, header.sid) ||
          p.signers.length !== header.parties.length ||
          p.signers.some((s, i) => s !== header.parties[i])
        )
          return r.fail('presignature of another session');
        return finishedProtocol(2, 2, p, state.slice());
      }
      case PHASE_TAG.fresh:
        r.end();
        // Its sid is claimed; a copy that started would be the second run under it (C1).
        throw new MpcError('ERR_MPC_SID_REUSED', {
          detail: 'a presigning session restores only once finished; start a new one',
        });
      case PHASE_TAG.running:
        r.end();
        // The one-time values are gone with the process; re-drawing them under the same sid
        // and answering other round-1 messages would leak (r_i, sk_i) (C2).
        throw new MpcError('ERR_MPC_NONCE_REUSE', {
          detail: 'presigning session saved mid-way cannot resume; start a new one',
        });
      case PHASE_TAG.legacySeeded:
        // v1 state: holds the seed of r_i, φ_i, β, â (C2). Never load it.
        throw new MpcError('ERR_MPC_NONCE_REUSE', {
          detail: 'legacy presigning state cannot resume; start a new one',
        });
      default:
        return r.fail('phase');
    }
  }
}

/**
 * λ: secp256k1's endomorphism φ(x, y) = (β·x, y) is multiplication by λ, a primitive cube root of
 * unity mod q (Gallant–Lambert–Vanstone, CRYPTO 2001; the constants of noble's `endo`).
 */
const GLV_LAMBDA = 0x5363ad4cc05c30e0a5261c028812645a122e22ea20816678df02967c1b23bd72n;

/**
 * The Γ checks' random coefficient ρ = ρ1 + ρ2·λ mod q, for fresh random 64-bit ρ1, ρ2. These
 * are 2^128 distinct values (a collision would be a non-zero (a, b) with a + b·λ ≡ 0 mod q and
 * |a|, |b| < 2^64, but the shortest such vectors are ≈ 2^128 long: the GLV basis), so the one ρ
 * that could hide a failed equation is drawn with probability ≤ 2^-128. Why this form: noble's
 * variable-time multiplication splits its scalar as k1 + k2·λ and here finds ρ1, ρ2, so ρ·P costs
 * 64 doublings instead of 128 (0.47 against 0.93 ms measured; two per check).
 */
function batchCoefficient(random: RandomSource): bigint {
  const b = random(16);
  if (b.length !== 16) throw new RangeError('random source returned the wrong length');
  const v = new DataView(b.buffer, b.byteOffset, 16);
  const rho = modQ(v.getBigUint64(0, false) + v.getBigUint64(8, false) * GLV_LAMBDA);
  b.fill(0);
  return rho;
}

function mulG(k: bigint): GroupPoint {
  return k === 0n ? suite.ZERO : suite.G.multiply(k);
}

/**
 * Creates a presigning session, after claiming (share set, me, sid) in `registry`: the sid
 * is refused (`ERR_MPC_SID_REUSED`) if it was ever claimed before, and the session does not
 * exist — so cannot emit anything — until the claim is durable (review 2026-11-24, C1).
 * Parameters, the key share and its OT setups are checked first, so a refused request does
 * not consume the sid.
 */
export function dkls23Presign(params: Dkls23PresignParams): Promise<Session<Dkls23Presignature>> {
  return createPresign(params, defaultRandom);
}

/** Test-only: {@link dkls23Presign} with injected randomness. */
export function dkls23PresignForTesting(
  params: Dkls23PresignParams,
  test: Dkls23PresignTestOptions,
): Promise<Session<Dkls23Presignature>> {
  return createPresign(params, test.random ?? defaultRandom);
}

async function createPresign(
  params: Dkls23PresignParams,
  random: RandomSource,
): Promise<Session<Dkls23Presignature>> {
  const { keyShare, registry } = params;
  if (typeof registry?.claim !== 'function')
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'registry' });
  const secret = checkDkls23KeyShare(keyShare);
  const signers = normalizeParties(params.signers, 'signers');
  if (signers.length < keyShare.threshold || signers.some((s) => !keyShare.parties.includes(s)))
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'signers' });
  const header = makeHeader(dkls23ProtocolIds.presign, params.sid, signers, keyShare.index);
  const setId = shareSetId(keyShare);
  const protocol = new Dkls23Presign(header, keyShare, setId, secret, random);
  let claimed: unknown;
  try {
    claimed = await registry.claim(presignSessionId(setId, header.me, header.sid));
  } catch (e) {
    protocol.wipe();
    throw e;
  }
  // Anything but `true` (a registry bug returning undefined, say) is a refusal: fail closed.
  if (claimed !== true) {
    protocol.wipe();
    throw new MpcError('ERR_MPC_SID_REUSED');
  }
  return Session.create(header, protocol);
}

/** Loader for {@link Session.restore}. */
export const loadDkls23Presign = (
  header: SessionHeader,
  state: Uint8Array,
): RoundProtocol<Dkls23Presignature> => Dkls23Presign.load(header, state);
