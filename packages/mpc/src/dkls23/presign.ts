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
 * Every pair use has its own ids: H("pair", ctx, alice, bob, "rvole"), so a message for another
 * session or the other direction fails the KOS check. All randomness derives from a 32-byte
 * seed drawn at creation and stored with the session (never restore an older copy of a
 * presigning session: that would reuse r_i and φ_i).
 * @module
 */
import { ByteReader, ByteWriter, wipe } from '../bytes.js';
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
import {
  dkls23Hasher,
  dkls23ProtocolIds,
  modQ,
  pairSessionId,
  seededRandom,
  sessionContext,
} from './hashing.js';
import {
  checkDkls23KeyShare,
  exportDkls23KeyShare,
  importDkls23KeyShare,
  shareSetId,
  type Dkls23KeyShare,
  type Dkls23Pair,
} from './key-share.js';
import { extensionMessageLength } from './ot-extension.js';
import {
  exportPresignature,
  importPresignature,
  redactPresignature,
  type Dkls23Presignature,
} from './presignature.js';
import {
  decodeAliceMessage,
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
const SEED = 32;
const R2_BROADCAST = POINT + POINT + SALT_LENGTH;
const R2_P2P = RVOLE_ALICE_MESSAGE_LENGTH + POINT + POINT + 32;

/** Parameters of {@link dkls23Presign}. */
export interface Dkls23PresignParams {
  /** Session id, 16..64 bytes, unique per presigning session. */
  readonly sid: Uint8Array;
  readonly keyShare: Dkls23KeyShare;
  /** The signing set S: at least `threshold` members of the share set, me included. */
  readonly signers: readonly number[];
  /** Randomness; tests only. */
  readonly random?: RandomSource;
}

interface BobCache {
  readonly state: RvoleBobState;
  readonly chi: bigint;
  readonly gadget: bigint[];
}

class Dkls23Presign implements RoundProtocol<Dkls23Presignature> {
  readonly rounds = 2;
  readonly confirmRound = 2;
  private readonly context: Uint8Array[];
  private readonly others: readonly number[];
  private readonly pairs = new Map<number, Dkls23Pair>();
  private readonly bob = new Map<number, BobCache>();
  private readonly secret: bigint;

  constructor(
    private readonly header: SessionHeader,
    private readonly keyShare: Dkls23KeyShare,
    private seed: Uint8Array,
    private readonly commitments: Map<number, Uint8Array>,
    /** (c_u, c_v) of each pair where I am Alice, kept from R2 to R3. */
    private readonly aliceOutputs: Map<number, [bigint, bigint]>,
    private presignature: Dkls23Presignature | undefined,
    /** x_i, from the one validation of the key share (`checkDkls23KeyShare`, ≈ 8 ms). */
    secret: bigint,
  ) {
    this.context = sessionContext(header.protocol, header.sid);
    this.others = header.parties.filter((p) => p !== header.me);
    this.secret = secret;
    for (const p of keyShare.pairs) this.pairs.set(p.party, p);
    for (const j of this.others) {
      const p = this.pairs.get(j);
      if (p === undefined) throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'signers' });
      if (p.otSender.destroyed || p.otReceiver.destroyed)
        throw new MpcError('ERR_MPC_OT_SETUP_DESTROYED', { culprit: j });
    }
  }

  private rng(...labels: (string | number)[]): RandomSource {
    return seededRandom(this.seed, ...labels);
  }

  private nonce(): { r: bigint; phi: bigint } {
    return { r: suite.randomScalar(this.rng('r')), phi: suite.randomScalar(this.rng('phi')) };
  }

  private myR: GroupPoint | undefined;

  /** R_i = r_i·G (constant time), computed once per process. */
  private nonceCommitment(r: bigint): GroupPoint {
    return (this.myR ??= suite.G.multiply(r));
  }

  private salt(): Uint8Array {
    return this.rng('salt')(SALT_LENGTH);
  }

  /** sk_i = λ_i·x_i + ζ_i (specs/dkls23.md, "Signing"). */
  private signingKey(): bigint {
    const { me, parties } = this.header;
    let zeta = 0n;
    for (const j of this.others) {
      const z = dkls23Hasher.hashToScalar(
        suite.order,
        'zero-share',
        (this.pairs.get(j) as Dkls23Pair).zeroSeed,
        ...this.context,
      );
      zeta += me < j ? z : -z;
    }
    return modQ(lagrange(suite, me, parties) * this.secret + zeta);
  }

  private sidOf(alice: number, bob: number): Uint8Array {
    return pairSessionId(this.context, alice, bob, 'rvole');
  }

  /** My Bob side with Alice = j (recomputed from the seed after a restore). */
  private bobSide(j: number): BobCache {
    let c = this.bob.get(j);
    if (c === undefined) {
      const sidPair = this.sidOf(j, this.header.me);
      const g = gadget(sidPair);
      const { chi, state } = rvoleBobStart(
        (this.pairs.get(j) as Dkls23Pair).otReceiver,
        sidPair,
        this.rng('bob', j),
        g,
      );
      c = { state, chi, gadget: g };
      this.bob.set(j, c);
    }
    return c;
  }

  expect(): Expectation {
    return { broadcastFrom: this.others, p2pFrom: this.others };
  }

  start(): Outgoing[] {
    const { r } = this.nonce();
    const R = this.nonceCommitment(r).toBytes();
    const c = commit(dkls23Hasher, this.context, this.header.me, R, () => this.salt());
    const out: Outgoing[] = [{ to: 'broadcast', payload: c.commitment }];
    for (const j of this.others) {
      const sidPair = this.sidOf(j, this.header.me);
      const g = gadget(sidPair);
      const { message, chi, state } = rvoleBobStart(
        (this.pairs.get(j) as Dkls23Pair).otReceiver,
        sidPair,
        this.rng('bob', j),
        g,
      );
      this.bob.set(j, { state, chi, gadget: g });
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
      suite.decodePoint(payload.subarray(0, POINT), from);
      suite.decodePoint(payload.subarray(POINT, 2 * POINT), from);
    } else {
      if (payload.length !== R2_P2P) bad('multiplication');
      decodeAliceMessage(payload.subarray(0, RVOLE_ALICE_MESSAGE_LENGTH), from);
      const rest = payload.subarray(RVOLE_ALICE_MESSAGE_LENGTH);
      suite.decodePoint(rest.subarray(0, POINT), from);
      suite.decodePoint(rest.subarray(POINT, 2 * POINT), from);
      suite.decodeScalar(rest.subarray(2 * POINT), from, true);
    }
  }

  advance(round: number, input: RoundMessages): Outgoing[] {
    return round === 1 ? this.round2(input) : this.round3(input);
  }

  private round2(input: RoundMessages): Outgoing[] {
    for (const [j, c] of input.broadcast) this.commitments.set(j, c.slice());
    const { r, phi } = this.nonce();
    const sk = this.signingKey();
    const out: Outgoing[] = [
      {
        to: 'broadcast',
        payload: new ByteWriter()
          .raw(suite.G.multiply(sk).toBytes())
          .raw(this.nonceCommitment(r).toBytes())
          .raw(this.salt())
          .finish(),
      },
    ];
    for (const j of this.others) {
      const sidPair = this.sidOf(this.header.me, j);
      // KOS check inside: a failure destroys the setup (me → j) and bans j.
      const { message, c } = rvoleAliceRespond(
        (this.pairs.get(j) as Dkls23Pair).otSender,
        sidPair,
        input.p2p.get(j) as Uint8Array,
        [r, sk],
        this.rng('alice', j),
      );
      this.aliceOutputs.set(j, c);
      const psi = modQ(phi - this.bobSide(j).chi);
      out.push({
        to: j,
        payload: new ByteWriter()
          .raw(message)
          .raw(suite.G.multiply(c[0]).toBytes())
          .raw(suite.G.multiply(c[1]).toBytes())
          .raw(suite.encodeScalar(psi))
          .finish(),
      });
    }
    return out;
  }

  private round3(input: RoundMessages): Outgoing[] {
    const { me, parties } = this.header;
    const Rs = new Map<number, GroupPoint>();
    const pks = new Map<number, GroupPoint>();
    for (const j of this.others) {
      const b = input.broadcast.get(j) as Uint8Array;
      const R = b.subarray(POINT, 2 * POINT);
      verifyOpening(
        dkls23Hasher,
        this.context,
        j,
        this.commitments.get(j) as Uint8Array,
        R,
        b.subarray(2 * POINT),
      );
      pks.set(j, suite.decodePoint(b.subarray(0, POINT), j));
      Rs.set(j, suite.decodePoint(R, j));
    }
    const { r, phi } = this.nonce();
    const sk = this.signingKey();
    let R = this.nonceCommitment(r);
    for (const Rj of Rs.values()) R = R.add(Rj);
    // With two signers the other one chose its R_j (committed before seeing mine): it is at
    // fault. With more, R = O needs collusion and names nobody in particular.
    if (R.is0()) throw this.unattributed('r-not-zero');
    let psiSum = phi;
    let uAcc = 0n;
    let vAcc = 0n;
    for (const j of this.others) {
      const p2p = input.p2p.get(j) as Uint8Array;
      const bob = this.bobSide(j);
      const pair = this.pairs.get(j) as Dkls23Pair;
      // μ check inside: a failure destroys the setup (j → me) and bans j.
      const [du, dv] = rvoleBobFinish(
        pair.otReceiver,
        this.sidOf(j, me),
        bob.state,
        p2p.subarray(0, RVOLE_ALICE_MESSAGE_LENGTH),
        bob.gadget,
      );
      const rest = p2p.subarray(RVOLE_ALICE_MESSAGE_LENGTH);
      const gammaU = suite.decodePoint(rest.subarray(0, POINT), j);
      const gammaV = suite.decodePoint(rest.subarray(POINT, 2 * POINT), j);
      const psi = suite.decodeScalar(rest.subarray(2 * POINT), j, true);
      this.checkGammas(
        j,
        bob.chi,
        Rs.get(j) as GroupPoint,
        pks.get(j) as GroupPoint,
        du,
        dv,
        gammaU,
        gammaV,
      );
      const [cu, cv] = this.aliceOutputs.get(j) as [bigint, bigint];
      psiSum += psi;
      uAcc += cu + du;
      vAcc += cv + dv;
    }
    let pkSum = suite.G.multiply(sk);
    for (const pk of pks.values()) pkSum = pkSum.add(pk);
    if (!pkSum.equals(suite.decodePoint(this.keyShare.publicKey)))
      throw this.unattributed('sum-pk');
    psiSum = modQ(psiSum);
    const u = modQ(r * psiSum + uAcc);
    const v = modQ(sk * psiSum + vAcc);
    this.presignature = redactPresignature({
      shareSetId: shareSetId(this.keyShare),
      sid: this.header.sid.slice(),
      signers: [...parties],
      index: me,
      R: R.toBytes(),
      phi: suite.encodeScalar(phi),
      u: suite.encodeScalar(u),
      v: suite.encodeScalar(v),
    });
    this.dropSecrets();
    return [];
  }

  /**
   * χ·R_j = d_u·G + Γu and χ·pk_j = d_v·G + Γv, batched: with a fresh random ρ known only to
   * me, χ·(R_j + ρ·pk_j) = (d_u + ρ·d_v)·G + Γu + ρ·Γv fails with probability 1 − 1/q if either
   * equation does, and costs one multiplication of an arbitrary point by the secret χ instead
   * of two (docs/dkls23-notes.md, "Γ checks"). On failure both are re-checked to say which.
   */
  private checkGammas(
    j: number,
    chi: bigint,
    Rj: GroupPoint,
    pkj: GroupPoint,
    du: bigint,
    dv: bigint,
    gammaU: GroupPoint,
    gammaV: GroupPoint,
  ): void {
    const rho = suite.randomScalar(this.rng('rho', j));
    // ρ is only a random combination coefficient (not a key): public-time arithmetic is fine.
    const lhs = Rj.add(pkj.multiplyUnsafe(rho)).multiply(chi);
    const rhs = mulG(modQ(du + rho * dv))
      .add(gammaU)
      .add(gammaV.multiplyUnsafe(rho));
    if (lhs.equals(rhs)) return;
    if (!Rj.multiply(chi).equals(mulG(du).add(gammaU))) throw new Dkls23CheckError('gamma-u', j);
    throw new Dkls23CheckError('gamma-v', j);
  }

  /**
   * A failed global check (Σ pk = X, R ≠ O): with one other signer it is at fault; with more,
   * one of them is, and the error lists them as suspects (docs/dkls23-notes.md, item 8).
   */
  private unattributed(check: 'sum-pk' | 'r-not-zero'): Dkls23CheckError {
    return this.others.length === 1
      ? new Dkls23CheckError(check, this.others[0])
      : new Dkls23CheckError(check, undefined, [], this.others);
  }

  private dropSecrets(): void {
    wipe(this.seed);
    for (const b of this.bob.values()) wipe(b.state.choices, b.state.rows);
    this.bob.clear();
    for (const c of this.aliceOutputs.values()) c.fill(0n);
    this.aliceOutputs.clear();
  }

  result(): Dkls23Presignature | undefined {
    return this.presignature;
  }

  encodeState(): Uint8Array {
    if (this.presignature !== undefined)
      return new ByteWriter().u8(1).bytes(exportPresignature(this.presignature)).finish();
    const w = new ByteWriter().u8(0).raw(this.seed).bytes(exportDkls23KeyShare(this.keyShare));
    w.u8(this.commitments.size);
    for (const [j, c] of this.commitments) w.u16(j).raw(c);
    w.u8(this.aliceOutputs.size);
    for (const [j, [cu, cv]] of this.aliceOutputs)
      w.u16(j).raw(suite.encodeScalar(cu)).raw(suite.encodeScalar(cv));
    return w.finish();
  }

  wipe(): void {
    this.dropSecrets();
    if (this.presignature !== undefined)
      wipe(this.presignature.phi, this.presignature.u, this.presignature.v);
  }

  static load(header: SessionHeader, state: Uint8Array): RoundProtocol<Dkls23Presignature> {
    const r = new ByteReader(state, 'dkls23 presign state');
    if (r.u8() === 1) {
      const p = importPresignature(r.bytes(1024));
      r.end();
      return finishedProtocol(2, 2, p, state);
    }
    const seed = r.take(SEED);
    const keyShare = importDkls23KeyShare(r.bytes(1 << 22));
    const commitments = new Map<number, Uint8Array>();
    for (let n = r.u8(); n > 0; n--) commitments.set(r.u16(), r.take(COMMITMENT_LENGTH));
    const alice = new Map<number, [bigint, bigint]>();
    for (let n = r.u8(); n > 0; n--)
      alice.set(r.u16(), [
        suite.decodeScalar(r.take(32), undefined, true),
        suite.decodeScalar(r.take(32), undefined, true),
      ]);
    r.end();
    return new Dkls23Presign(
      header,
      keyShare,
      seed,
      commitments,
      alice,
      undefined,
      checkDkls23KeyShare(keyShare),
    );
  }
}

function mulG(k: bigint): GroupPoint {
  return k === 0n ? suite.ZERO : suite.G.multiply(k);
}

/** Creates a presigning session. */
export function dkls23Presign(params: Dkls23PresignParams): Session<Dkls23Presignature> {
  const { keyShare } = params;
  const secret = checkDkls23KeyShare(keyShare);
  const signers = normalizeParties(params.signers, 'signers');
  if (signers.length < keyShare.threshold || signers.some((s) => !keyShare.parties.includes(s)))
    throw new MpcError('ERR_MPC_INVALID_PARAMS', { detail: 'signers' });
  const header = makeHeader(dkls23ProtocolIds.presign, params.sid, signers, keyShare.index);
  const seed = (params.random ?? defaultRandom)(SEED);
  if (seed.length !== SEED) throw new RangeError('random source returned the wrong length');
  return Session.create(
    header,
    new Dkls23Presign(header, keyShare, seed, new Map(), new Map(), undefined, secret),
  );
}

/** Loader for {@link Session.restore}. */
export const loadDkls23Presign = (
  header: SessionHeader,
  state: Uint8Array,
): RoundProtocol<Dkls23Presignature> => Dkls23Presign.load(header, state);
