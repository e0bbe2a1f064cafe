/**
 * Non-hardened HD derivation of a share set's public key (ARCHITECTURE.md §3 "Derivation").
 *
 * - secp256k1: BIP32 `CKDpub` exactly: `I = HMAC-SHA512(c_par, serP(K_par) ‖ ser32(i))`,
 *   `K_i = parse256(I_L)·G + K_par`, `c_i = I_R`; `I_L ≥ n` or `K_i = ∞` is an invalid child
 *   (BIP32 says to move on to the next index; we refuse, and the caller picks another index).
 * - Ed25519: the scalar-tweak derivation of `docs/ed25519-derivation.md`:
 *   `T = HMAC-SHA512(c_par, 0x00 ‖ A_par ‖ ser32(i))`, `t = LE(T) mod L` (wide reduction),
 *   `A_i = A_par + t·B`, `c_i = HMAC-SHA512(c_par, 0x01 ‖ A_par ‖ ser32(i))[0..32)`.
 *
 * Only public data goes in, so every party computes the same total tweak `τ = Σ t` and applies
 * it at signing time: `x_j + τ` is a Shamir share of `x + τ` (Lagrange coefficients sum to 1).
 * Hardened indices (≥ 2^31) need the whole key and are refused.
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToNumberBE, bytesToNumberLE } from '@noble/curves/utils.js';
import { toHex, u32be } from './bytes.js';
import { curveSuite, type CurveName, type GroupPoint } from './curve-suite.js';
import { MpcError } from './errors.js';

/** The root of a derivation: a share set's public key and chain code. */
export interface DerivationRoot {
  readonly curve: CurveName;
  readonly publicKey: Uint8Array;
  readonly chainCode: Uint8Array;
}

/** A derived public key. */
export interface DerivedPublicKey {
  readonly publicKey: Uint8Array;
  readonly chainCode: Uint8Array;
}

/** A derived key with the total scalar tweak from the root (public). */
export interface DerivedKey extends DerivedPublicKey {
  readonly tweak: bigint;
}

/** A derivation path: `"m/44/60/0/0/7"` or `[44, 60, 0, 0, 7]`. */
export type DerivationPath = string | readonly number[];

const HARDENED = 0x80000000;
const MAX_DEPTH = 255;

/** Parses and validates a non-hardened path. */
export function parsePath(path: DerivationPath): number[] {
  let parts: unknown[];
  if (typeof path === 'string') {
    const segments = path.split('/');
    if (segments[0] !== 'm')
      throw new MpcError('ERR_MPC_DERIVATION', { detail: 'path must start with m' });
    parts = segments.slice(1).map((s) => (/^(0|[1-9][0-9]{0,9})$/.test(s) ? Number(s) : NaN));
  } else if (Array.isArray(path)) parts = [...(path as unknown[])];
  else throw new MpcError('ERR_MPC_DERIVATION', { detail: 'path type' });
  if (parts.length > MAX_DEPTH)
    throw new MpcError('ERR_MPC_DERIVATION', { detail: 'path too deep' });
  for (const i of parts)
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= HARDENED)
      throw new MpcError('ERR_MPC_DERIVATION', { detail: 'only non-hardened indices 0..2^31-1' });
  return parts as number[];
}

/** A node of a derivation: the point, its chain code and the tweak from the root. */
interface DerivationNode {
  readonly point: GroupPoint;
  /** The point's encoding. */
  readonly publicKey: Uint8Array;
  readonly chainCode: Uint8Array;
  readonly tweak: bigint;
}

/**
 * Nodes already derived, by root and path. Every party derives each signing's path at least
 * twice (the protocol's tweak, the check of the result), and addresses of one account share all
 * but their last index; each level is a point multiplication and a point encoding, so the parent
 * and the node of every path are kept. Only public values; the bound is a guard (a signer meets
 * few roots and accounts), dropping the oldest first.
 */
const MAX_CACHED_NODES = 1024;
const cachedNodes = new Map<string, DerivationNode>();

function remember(key: string, node: DerivationNode): void {
  if (cachedNodes.size >= MAX_CACHED_NODES) {
    const oldest = cachedNodes.keys().next();
    if (oldest.done !== true) cachedNodes.delete(oldest.value);
  }
  cachedNodes.set(key, node);
}

/** Derives the child key and total tweak along `path` from `root`. */
export function deriveKey(root: DerivationRoot, path: DerivationPath): DerivedKey {
  const suite = curveSuite(root.curve);
  const indices = parsePath(path);
  if (!(root.chainCode instanceof Uint8Array) || root.chainCode.length !== 32)
    throw new MpcError('ERR_MPC_DERIVATION', { detail: 'chain code must be 32 bytes' });
  if (!(root.publicKey instanceof Uint8Array))
    throw new MpcError('ERR_MPC_DERIVATION', { detail: 'root public key' });
  const rootId = `${suite.name}:${toHex(root.publicKey)}:${toHex(root.chainCode)}`;
  const keyOf = (depth: number): string => `${rootId}/${indices.slice(0, depth).join('/')}`;
  const parentDepth = Math.max(0, indices.length - 1);
  const found = cachedNodes.get(keyOf(indices.length));
  if (found !== undefined) return publicNode(found);
  let node = cachedNodes.get(keyOf(parentDepth));
  let depth = node === undefined ? 0 : parentDepth;
  if (node === undefined) {
    let point: GroupPoint;
    try {
      point = suite.decodePoint(root.publicKey);
    } catch (e) {
      throw new MpcError('ERR_MPC_DERIVATION', { detail: 'root public key', cause: e });
    }
    node = { point, publicKey: point.toBytes(), chainCode: root.chainCode.slice(), tweak: 0n };
  }
  for (; depth < indices.length; depth++) {
    const i = indices[depth]!;
    const K: GroupPoint = node.point;
    const serK = node.publicKey;
    let t: bigint;
    let nextChain: Uint8Array;
    if (suite.name === 'secp256k1') {
      const I = hmac(sha512, node.chainCode, concat(serK, u32be(i)));
      t = bytesToNumberBE(I.subarray(0, 32));
      nextChain = I.slice(32);
      if (t >= suite.order)
        throw new MpcError('ERR_MPC_DERIVATION', { detail: 'invalid child (I_L >= n)' });
    } else {
      const T = hmac(sha512, node.chainCode, concat(Uint8Array.of(0), serK, u32be(i)));
      t = suite.mod(bytesToNumberLE(T));
      nextChain = hmac(sha512, node.chainCode, concat(Uint8Array.of(1), serK, u32be(i))).slice(
        0,
        32,
      );
    }
    // t is computed from public data only (chain code, public key, index): variable-time
    // multiplication is safe, and 3–5× faster than the constant-time one (docs/constant-time.md).
    const child: GroupPoint = t === 0n ? K : K.add(suite.G.multiplyUnsafe(t));
    if (child.is0()) throw new MpcError('ERR_MPC_DERIVATION', { detail: 'invalid child' });
    node = {
      point: child,
      publicKey: child.toBytes(),
      chainCode: nextChain,
      tweak: suite.mod(node.tweak + t),
    };
    if (depth + 1 >= parentDepth) remember(keyOf(depth + 1), node);
  }
  return publicNode(node);
}

/** The caller's copy of a node: what is cached stays unaltered. */
function publicNode(node: DerivationNode): DerivedKey {
  return {
    publicKey: node.publicKey.slice(),
    chainCode: node.chainCode.slice(),
    tweak: node.tweak,
  };
}

/** Derives the public key (and chain code) at `path` from a share set's root. */
export function derivePublicKey(root: DerivationRoot, path: DerivationPath): DerivedPublicKey {
  const { publicKey, chainCode } = deriveKey(root, path);
  return { publicKey, chainCode };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
