/**
 * Random vector OLE over Z_q from correlated OTs: DKLs23 §5 (Doerner–Kondi–Lee–shelat,
 * *Threshold ECDSA in Three Rounds*, ePrint 2023/765, Protocol 5.2 "π_RVOLE") with the
 * consistency check of DKLs19 (ePrint 2019/523, §5 Protocol 5 "π_Mul", the check with η and μ
 * on an extra random input â), as fixed by specs/dkls23.md, "Building blocks" 5.
 *
 * Alice (extension sender) inputs a = (a_1, a_2); Bob (extension receiver) inputs nothing:
 * his random input is χ = Σ_k g_k·β_k for his ξ = 512 random choice bits β (ξ = |q| + 2·s with
 * s = 128: the encoding leaves χ statistically close to uniform even given Alice's view).
 * With α = (a_1, a_2, â) and, per random OT, pads expanded to Z_q^3 (Alice γ0_k, γ1_k; Bob γ_k):
 * - Alice sends her pad nonce n_A and τ_k = γ1_k − γ0_k − α; her shares zA_k = −γ0_k; Bob's
 *   zB_k = γ_k − β_k·τ_k; so zA_k + zB_k = β_k·α.
 * - Check: θ = (θ_1, θ_2) from Hq("theta", sid_pair, m, n_A, τ); Alice sends η = â + θ·(a_1, a_2)
 *   and μ = H("mu", sid_pair, {zA_k[3] + θ·zA_k[1..2]}_k); Bob checks
 *   μ = H("mu", sid_pair, {β_k·η − zB_k[3] − θ·zB_k[1..2]}_k). A failure bans Alice and
 *   destroys the setup.
 * - Outputs c = Σ g_k·zA_k[1..2] (Alice), d = Σ g_k·zB_k[1..2] (Bob): c + d = χ·(a_1, a_2).
 *
 * The gadget g_k = Hq("gadget", sid_pair, k) is public. `sid_pair` is the per-use pair id of
 * the caller, the same one the OT extension uses. All of Bob's randomness (n_B, β, padding) and
 * Alice's (n_A, â) comes from `random` at the call and is never stored: a repeated `sid_pair`
 * then reveals nothing (docs/dkls23-notes.md, "Per-use nonces").
 * @module
 */
import { constantTimeEqual, wipe } from '../bytes.js';
import { defaultRandom, secp256k1Suite, type RandomSource } from '../curve-suite.js';
import { MpcError } from '../errors.js';
import { Dkls23CheckError } from './check-error.js';
import {
  fastHash,
  fastHashToScalar,
  hashToScalars,
  modQ,
  Q,
  scalarToBytes,
  scalarBelowQAt,
  uint256At,
  writeUint256,
} from './hashing.js';
import {
  destroyOtSetup,
  extensionReceive,
  extensionSend,
  receiverPads,
  senderPads,
  KOS_PAD,
  OT_NONCE_LENGTH,
  type OtReceiverSetup,
  type OtSenderSetup,
} from './ot-extension.js';

/** ξ: OTs per RVOLE. */
export const RVOLE_XI = 512;
/** Alice's input length ℓ; with â, pads are ℓ + 1 = 3 scalars wide. */
const WIDTH = 3;
/** Byte length of τ (ξ × 3 scalars). */
const TAU_LENGTH = RVOLE_XI * WIDTH * 32;
/** Alice's message: n_A ‖ τ ‖ η ‖ μ. */
export const RVOLE_ALICE_MESSAGE_LENGTH = OT_NONCE_LENGTH + TAU_LENGTH + 32 + 32;

/** The public gadget vector of a pair use. */
export function gadget(sidPair: Uint8Array): bigint[] {
  return hashToScalars('gadget', sidPair, RVOLE_XI);
}

/** Writes a scalar (< q) as 32 bytes big-endian at `offset` of `out` (no hex string). */
function writeScalar(out: DataView, k: bigint, offset: number): void {
  writeUint256(out, offset, k);
}

/** A view over the same memory, for {@link writeScalar}. */
function bufferView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bitAt(bits: Uint8Array, k: number): bigint {
  return BigInt(((bits[k >>> 3] ?? 0) >>> (k & 7)) & 1);
}

/** Bob's secret state between his message and Alice's answer. */
export interface RvoleBobState {
  /** β, ξ bits. */
  readonly choices: Uint8Array;
  /** His extension rows (secret). */
  readonly rows: Uint8Array;
}

/**
 * Bob, step 1: fresh nonce n_B and random choice bits, his extension message, and his random
 * input χ. `random` must give fresh bytes, never derived from stored state (a replayed β under
 * a replayed n_B is what the nonce exists to prevent).
 */
export function rvoleBobStart(
  setup: OtReceiverSetup,
  sidPair: Uint8Array,
  random: RandomSource = defaultRandom,
  g: readonly bigint[] = gadget(sidPair),
): { message: Uint8Array; chi: bigint; state: RvoleBobState } {
  const nonce = randomBytes(random, OT_NONCE_LENGTH);
  const choices = randomBytes(random, RVOLE_XI / 8);
  const padding = randomBytes(random, KOS_PAD / 8);
  const { message, rows } = extensionReceive(setup, sidPair, choices, padding, nonce, RVOLE_XI);
  wipe(padding);
  let chi = 0n;
  for (let k = 0; k < RVOLE_XI; k++) chi += (g[k] ?? 0n) * bitAt(choices, k);
  return { message, chi: modQ(chi), state: { choices, rows } };
}

function randomBytes(random: RandomSource, n: number): Uint8Array {
  const b = random(n);
  if (b.length !== n) throw new RangeError('random source returned the wrong length');
  return b;
}

/** θ_m = Hq("theta", sid_pair, m, n_A, τ): fixed only once n_A and τ (hence α) are. */
function theta(sidPair: Uint8Array, nonce: Uint8Array, tau: Uint8Array): [bigint, bigint] {
  return [
    fastHashToScalar('theta', sidPair, Uint8Array.of(0), nonce, tau),
    fastHashToScalar('theta', sidPair, Uint8Array.of(1), nonce, tau),
  ];
}

/**
 * Alice: from Bob's extension message (KOS check first: a failure bans Bob and destroys the
 * setup), her answer `n_A ‖ τ ‖ η ‖ μ` and her output share c = (c_1, c_2). n_A and â are
 * drawn from `random` here, for this one use.
 */
export function rvoleAliceRespond(
  setup: OtSenderSetup,
  sidPair: Uint8Array,
  bobMessage: Uint8Array,
  a: readonly [bigint, bigint],
  random: RandomSource = defaultRandom,
  g: readonly bigint[] = gadget(sidPair),
): { message: Uint8Array; c: [bigint, bigint] } {
  const rows = extensionSend(setup, sidPair, bobMessage, RVOLE_XI);
  const nonce = randomBytes(random, OT_NONCE_LENGTH);
  const { pads0, pads1 } = senderPads(sidPair, nonce, rows, setup.delta, RVOLE_XI, WIDTH);
  wipe(rows);
  const aHat = secp256k1Suite.randomScalar(random);
  const alpha = [a[0], a[1], aHat];
  const message = new Uint8Array(RVOLE_ALICE_MESSAGE_LENGTH);
  const messageView = bufferView(message);
  message.set(nonce);
  for (let k = 0; k < RVOLE_XI; k++)
    for (let m = 0; m < WIDTH; m++) {
      const i = k * WIDTH + m;
      const tau = modQ((pads1[i] ?? 0n) - (pads0[i] ?? 0n) - (alpha[m] ?? 0n));
      writeScalar(messageView, tau, OT_NONCE_LENGTH + 32 * i);
    }
  const tauBytes = message.subarray(OT_NONCE_LENGTH, OT_NONCE_LENGTH + TAU_LENGTH);
  const [t1, t2] = theta(sidPair, nonce, tauBytes);
  const eta = modQ(aHat + t1 * a[0] + t2 * a[1]);
  const muInput = new Uint8Array(RVOLE_XI * 32);
  const muView = bufferView(muInput);
  let c1 = 0n;
  let c2 = 0n;
  for (let k = 0; k < RVOLE_XI; k++) {
    const z1 = Q - (pads0[k * WIDTH] ?? 0n);
    const z2 = Q - (pads0[k * WIDTH + 1] ?? 0n);
    const z3 = Q - (pads0[k * WIDTH + 2] ?? 0n);
    writeScalar(muView, modQ(z3 + t1 * z1 + t2 * z2), 32 * k);
    const gk = g[k] ?? 0n;
    c1 += gk * z1;
    c2 += gk * z2;
  }
  message.set(scalarToBytes(eta), OT_NONCE_LENGTH + TAU_LENGTH);
  message.set(fastHash('mu', sidPair, muInput), OT_NONCE_LENGTH + TAU_LENGTH + 32);
  pads0.fill(0n);
  pads1.fill(0n);
  wipe(muInput);
  return { message, c: [modQ(c1), modQ(c2)] };
}

/**
 * Bob, step 2: checks μ (a failure bans Alice and destroys `setup`) and returns his output
 * share d = (d_1, d_2). A malformed message is refused naming Alice.
 */
export function rvoleBobFinish(
  setup: OtReceiverSetup,
  sidPair: Uint8Array,
  state: RvoleBobState,
  aliceMessage: Uint8Array,
  g: readonly bigint[] = gadget(sidPair),
): [bigint, bigint] {
  const alice = setup.sender;
  const { nonce, tau, eta, mu } = decodeAliceMessage(aliceMessage, alice);
  const tauBytes = aliceMessage.subarray(OT_NONCE_LENGTH, OT_NONCE_LENGTH + TAU_LENGTH);
  const pads = receiverPads(sidPair, nonce, state.rows, RVOLE_XI, WIDTH);
  const [t1, t2] = theta(sidPair, nonce, tauBytes);
  const muInput = new Uint8Array(RVOLE_XI * 32);
  const muView = bufferView(muInput);
  let d1 = 0n;
  let d2 = 0n;
  for (let k = 0; k < RVOLE_XI; k++) {
    const beta = bitAt(state.choices, k);
    const i = k * WIDTH;
    const z1 = modQ((pads[i] ?? 0n) - beta * (tau[i] ?? 0n));
    const z2 = modQ((pads[i + 1] ?? 0n) - beta * (tau[i + 1] ?? 0n));
    const z3 = modQ((pads[i + 2] ?? 0n) - beta * (tau[i + 2] ?? 0n));
    writeScalar(muView, modQ(beta * eta - z3 - t1 * z1 - t2 * z2), 32 * k);
    const gk = g[k] ?? 0n;
    d1 += gk * z1;
    d2 += gk * z2;
  }
  pads.fill(0n);
  const expected = fastHash('mu', sidPair, muInput);
  wipe(muInput);
  if (!constantTimeEqual(expected, mu)) {
    destroyOtSetup(setup);
    throw new Dkls23CheckError('mu', alice, [[setup.sender, setup.receiver]]);
  }
  return [modQ(d1), modQ(d2)];
}

/**
 * Strict decoding of Alice's message `n_A ‖ τ ‖ η ‖ μ`: exact length (so n_A is exactly 32
 * bytes; any value is a valid nonce), every scalar of τ and η < q. τ as a flat array.
 */
export function decodeAliceMessage(
  message: Uint8Array,
  alice: number,
): { nonce: Uint8Array; tau: bigint[]; eta: bigint; mu: Uint8Array } {
  if (message.length !== RVOLE_ALICE_MESSAGE_LENGTH)
    throw new MpcError('ERR_MPC_MALFORMED', { culprit: alice, detail: 'RVOLE message' });
  const tau: bigint[] = [];
  let eta = 0n;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  for (let i = 0; i < RVOLE_XI * WIDTH + 1; i++) {
    const v = uint256At(view, OT_NONCE_LENGTH + 32 * i);
    if (v >= Q) throw new MpcError('ERR_MPC_INVALID_SCALAR', { culprit: alice, detail: 'RVOLE' });
    if (i < RVOLE_XI * WIDTH) tau.push(v);
    else eta = v;
  }
  return {
    nonce: message.subarray(0, OT_NONCE_LENGTH),
    tau,
    eta,
    mu: message.subarray(OT_NONCE_LENGTH + TAU_LENGTH + 32),
  };
}

/**
 * The checks of {@link decodeAliceMessage} (exact length, every scalar of τ and η < q) without
 * building the 1,537 BigInts: for the check on arrival, so that round 3 decodes once.
 */
export function checkAliceMessage(message: Uint8Array, alice: number): void {
  if (message.length !== RVOLE_ALICE_MESSAGE_LENGTH)
    throw new MpcError('ERR_MPC_MALFORMED', { culprit: alice, detail: 'RVOLE message' });
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  for (let i = 0; i < RVOLE_XI * WIDTH + 1; i++)
    if (!scalarBelowQAt(view, OT_NONCE_LENGTH + 32 * i))
      throw new MpcError('ERR_MPC_INVALID_SCALAR', { culprit: alice, detail: 'RVOLE' });
}
