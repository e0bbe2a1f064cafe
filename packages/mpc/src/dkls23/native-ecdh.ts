/**
 * Constant-time secret-scalar multiplications through OpenSSL (`node:crypto` ECDH), where the
 * spec's cost model asks for them (specs/dkls23.md, "Conventions": a constant-time multiply of
 * an arbitrary point costs ~5.7 ms in `@noble/curves`, ~1.1 ms natively).
 *
 * - {@link sharedX}: `x(k·P)` for a secret `k` and an arbitrary point `P` — x-coordinate only,
 *   which is fine as hash input for base-OT keys, never for point equality.
 * - {@link nativeBaseMultiply}: `k·G` as a full compressed point (ECDH public key).
 * @module
 */
import { createECDH, type ECDH } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { GroupPoint } from '../curve-suite.js';
import { MpcError } from '../errors.js';
import { Q, scalarToBytes } from './hashing.js';

/**
 * One ECDH context per secret scalar; reuse it for many points. The scalar and the OpenSSL
 * context are `#private` (session-framework.md, "Secrets in memory"; review 2026-11-24, L1),
 * so `util.inspect`, loggers and `JSON.stringify` cannot reach them.
 */
export class SecretScalar {
  readonly #ecdh: ECDH;
  #key: Uint8Array;

  constructor(k: bigint) {
    this.#ecdh = createECDH('secp256k1');
    this.#key = new Uint8Array(0);
    this.replace(k);
  }

  /**
   * Replaces the scalar by `k` in the same OpenSSL context, overwriting the previous one there.
   * A loop over many one-use scalars (the base-OT receiver) then needs one {@link wipe} at the
   * end: `setPrivateKey` is itself a scalar multiplication (it computes k·G), so a wipe per
   * scalar doubled the receiver's cost.
   */
  replace(k: bigint): this {
    if (k <= 0n || k >= Q) throw new MpcError('ERR_MPC_INVALID_SCALAR', { detail: 'secret' });
    const key = scalarToBytes(k);
    this.#ecdh.setPrivateKey(key);
    this.#key.fill(0);
    this.#key = key;
    return this;
  }

  /** `x(k·P)`, 32 bytes. `P` must not be the identity (decoders already refuse it). */
  sharedX(P: GroupPoint): Uint8Array {
    this.#assertLive();
    // The uncompressed encoding spares OpenSSL a square root.
    const bytes = (P as GroupPoint & { toBytes(compressed?: boolean): Uint8Array }).toBytes(false);
    return new Uint8Array(this.#ecdh.computeSecret(bytes));
  }

  /** `k·G`, 33-byte compressed. */
  publicKey(): Uint8Array {
    this.#assertLive();
    return new Uint8Array(this.#ecdh.getPublicKey(null, 'compressed'));
  }

  /** `k·G` as a point (decoded from OpenSSL's uncompressed form: no square root needed). */
  publicPoint(): GroupPoint {
    this.#assertLive();
    const bytes = new Uint8Array(this.#ecdh.getPublicKey(null, 'uncompressed'));
    return secp256k1.Point.fromBytes(bytes);
  }

  /** After {@link wipe} OpenSSL holds the key 1: a result from it would be silently wrong. */
  #assertLive(): void {
    if (this.#key.length === 0) throw new Error('SecretScalar used after wipe');
  }

  /**
   * Drops the key (OpenSSL's copy is overwritten with a fixed non-secret key); {@link replace}
   * arms it again. A second call is free: the overwrite is itself a scalar multiplication, so a
   * caller may wipe early and again on its error paths without paying twice.
   */
  wipe(): void {
    if (this.#key.length === 0) return;
    this.#ecdh.setPrivateKey(scalarToBytes(1n));
    this.#key.fill(0);
    this.#key = new Uint8Array(0);
  }
}

/** `k·G` (constant time, native) as a compressed point. */
export function nativeBaseMultiply(k: bigint): Uint8Array {
  const s = new SecretScalar(k);
  const out = s.publicKey();
  s.wipe();
  return out;
}
