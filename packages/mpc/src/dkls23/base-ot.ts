/**
 * Base oblivious transfer: the "endemic" OT of Masny–Rindal [MR19] (CCS 2019, ePrint 2019/706,
 * §4 Figure 6, the random-oracle instantiation over a prime-order group), batched κ = 128 times
 * with one sender key, as fixed by specs/dkls23.md, "Building blocks" 3. It runs once per share
 * set and ordered pair, inside the DKG, to seed the OT extension (`ot-extension.ts`).
 *
 * Receiver with choice bits b (128 bits), for each l:
 *   sk_l random; r_{l,1−b_l} = k_l·G for a random k_l (a uniform point, as the spec's
 *   HG(random)); r_{l,b_l} = sk_l·G − HG(sid, l, r_{l,1−b_l});
 *   sends all (r_{l,0}, r_{l,1}).
 * Sender: one y, sends Y = y·G; pk_{l,c} = r_{l,c} + HG(sid, l, r_{l,1−c});
 *   m_{l,c} = H("ot", sid, l, c, x(y·pk_{l,c})).
 * Receiver: m_{l,b_l} = H("ot", sid, l, b_l, x(sk_l·Y)) (it has Y before it sends).
 *
 * `sid` is the pair session id `H("pair", ctx, alice, bob, "base-ot")` (alice = base-OT
 * receiver = extension sender). The secret-scalar × arbitrary-point products go through native
 * ECDH (x-coordinate only: a hash input here, as the spec allows). Every received point is
 * decoded strictly; a bad one names the sender.
 * @module
 */
import { secp256k1_hasher } from '@noble/curves/secp256k1.js';
import {
  defaultRandom,
  secp256k1Suite,
  type GroupPoint,
  type RandomSource,
} from '../curve-suite.js';
import { MpcError } from '../errors.js';
import { encodeFields } from '../hash.js';
import { dkls23Hasher, fastHash, u32 } from './hashing.js';
import { SecretScalar } from './native-ecdh.js';

/** Number of base OTs per ordered pair: κ = 128. */
export const BASE_OT_COUNT = 128;
/** Length of one base-OT output key. */
export const BASE_OT_KEY_LENGTH = 32;
/** Receiver message: 128 × (r_{l,0} ‖ r_{l,1}), compressed points. */
export const BASE_OT_RECEIVER_MESSAGE_LENGTH = BASE_OT_COUNT * 2 * 33;

const suite = secp256k1Suite;
const DST_POINT = dkls23Hasher.prefix + 'ot-point';

function hashToGroup(sid: Uint8Array, l: number, r: Uint8Array): GroupPoint {
  const msg = encodeFields([sid, u32(l), r]);
  return secp256k1_hasher.hashToCurve(msg, { DST: DST_POINT });
}

function bit(bits: Uint8Array, l: number): number {
  return ((bits[l >>> 3] ?? 0) >>> (l & 7)) & 1;
}

/** Sender, first step: the batch key `y` and `Y = y·G` (sent to the receiver). */
export function baseOtSenderKey(random: RandomSource = defaultRandom): {
  y: bigint;
  Y: Uint8Array;
} {
  const y = suite.randomScalar(random);
  const s = new SecretScalar(y);
  const Y = s.publicKey();
  s.wipe();
  return { y, Y };
}

/**
 * Receiver: its message for choice bits `choices` (16 bytes) and its keys m_{l,b_l}. The
 * sender's `Y` arrives first (DKG round 1), so the receiver finishes in the same step and keeps
 * no secret scalar: one OpenSSL key per l serves both sk_l·G and x(sk_l·Y).
 */
export function baseOtReceive(
  sid: Uint8Array,
  choices: Uint8Array,
  Y: Uint8Array,
  sender: number,
  random: RandomSource = defaultRandom,
): { message: Uint8Array; keys: Uint8Array[] } {
  if (choices.length !== BASE_OT_COUNT / 8) throw new RangeError('choices');
  const Yp = suite.decodePoint(Y, sender);
  const message = new Uint8Array(BASE_OT_RECEIVER_MESSAGE_LENGTH);
  const keys: Uint8Array[] = [];
  // One OpenSSL context for every k_l and sk_l: each replace() overwrites the previous scalar
  // there, and the last one is wiped at the end (native-ecdh.ts).
  let s: SecretScalar | undefined;
  try {
    for (let l = 0; l < BASE_OT_COUNT; l++) {
      const b = bit(choices, l);
      // r_{l,1−b_l}: a uniformly random point. The spec draws it as HG(random bytes); k·G for a
      // random k has the same distribution at a fraction of the cost (docs/dkls23-notes.md, "Base
      // OT": the receiver may know its discrete log — a malicious one could anyway).
      const k = suite.randomScalar(random);
      s = s === undefined ? new SecretScalar(k) : s.replace(k);
      const other = s.publicKey();
      s.replace(suite.randomScalar(random)); // sk_l
      const skG = s.publicPoint();
      keys.push(fastHash('ot', sid, u32(l), Uint8Array.of(b), s.sharedX(Yp)));
      const mine = skG.subtract(hashToGroup(sid, l, other)).toBytes();
      // Both orders are written; which slot holds `mine` is the secret choice bit, so select
      // without branching on it.
      const mask = -b & 0xff;
      const at = l * 66;
      for (let k = 0; k < 33; k++) {
        const m = mine[k] ?? 0;
        const o = other[k] ?? 0;
        message[at + k] = (o & mask) | (m & ~mask);
        message[at + 33 + k] = (m & mask) | (o & ~mask);
      }
    }
  } finally {
    s?.wipe();
  }
  return { message, keys };
}

/**
 * Sender, last step: both keys of every OT, from the receiver's message. Throws naming
 * `receiver` on a malformed message.
 */
export function baseOtSenderFinish(
  sid: Uint8Array,
  y: bigint,
  message: Uint8Array,
  receiver: number,
): { keys0: Uint8Array[]; keys1: Uint8Array[] } {
  if (message.length !== BASE_OT_RECEIVER_MESSAGE_LENGTH)
    throw new MpcError('ERR_MPC_MALFORMED', { culprit: receiver, detail: 'base OT message' });
  const s = new SecretScalar(y);
  const keys0: Uint8Array[] = [];
  const keys1: Uint8Array[] = [];
  try {
    for (let l = 0; l < BASE_OT_COUNT; l++) {
      const r0b = message.subarray(l * 66, l * 66 + 33);
      const r1b = message.subarray(l * 66 + 33, l * 66 + 66);
      const r0 = suite.decodePoint(r0b, receiver);
      const r1 = suite.decodePoint(r1b, receiver);
      const pk0 = r0.add(hashToGroup(sid, l, r1b));
      const pk1 = r1.add(hashToGroup(sid, l, r0b));
      if (pk0.is0() || pk1.is0())
        throw new MpcError('ERR_MPC_INVALID_POINT', { culprit: receiver, detail: 'base OT' });
      keys0.push(fastHash('ot', sid, u32(l), Uint8Array.of(0), s.sharedX(pk0)));
      keys1.push(fastHash('ot', sid, u32(l), Uint8Array.of(1), s.sharedX(pk1)));
    }
  } finally {
    s.wipe();
  }
  return { keys0, keys1 };
}
