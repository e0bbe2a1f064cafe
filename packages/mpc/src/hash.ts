/**
 * Domain-separated hashing for every building block of this package.
 *
 * `H(tag, f1, f2, …)` = SHA-256( "countersign/<domain>/v1/" ‖ tag ‖ (len32(f) ‖ f)… ), fields
 * always length-prefixed (specs/dkls23.md, "Conventions"). `Hq` maps the same input to a
 * scalar with RFC 9380 §5.2 `hash_to_field` (expand_message_xmd with SHA-256, k = 128, so 48
 * bytes for both secp256k1 and Ed25519 orders), the DST being the prefix and tag.
 * @module
 */
import { hash as nativeHash } from 'node:crypto';

import { hash_to_field } from '@noble/curves/abstract/hash-to-curve.js';
import { sha256 } from '@noble/hashes/sha2.js';

const encoder = new TextEncoder();

/** A hasher bound to one domain, e.g. `frost` or `dkls23`. */
export interface DomainHasher {
  /** The full prefix, e.g. `countersign/frost/v1/`. */
  readonly prefix: string;
  /** 32-byte SHA-256 over the prefix, the tag and the length-prefixed fields. */
  hash(tag: string, ...fields: Uint8Array[]): Uint8Array;
  /** Hash to a scalar modulo `order` (RFC 9380 `hash_to_field`, uniform up to 2^-128). */
  hashToScalar(order: bigint, tag: string, ...fields: Uint8Array[]): bigint;
}

/** Byte length of `len32(f1) ‖ f1 ‖ len32(f2) ‖ f2 …`. */
export function encodedFieldsLength(fields: readonly Uint8Array[]): number {
  let total = 0;
  for (const f of fields) total += 4 + f.length;
  return total;
}

/**
 * Writes `len32(f1) ‖ f1 ‖ len32(f2) ‖ f2 …` into `out` at `offset` (sized by the caller with
 * {@link encodedFieldsLength}) and returns the offset after it: lets a caller build a hash input
 * around the fields in one buffer instead of concatenating copies.
 */
export function writeFields(
  out: Uint8Array,
  offset: number,
  fields: readonly Uint8Array[],
): number {
  let off = offset;
  for (const f of fields) {
    const n = f.length;
    out[off] = n >>> 24;
    out[off + 1] = (n >>> 16) & 0xff;
    out[off + 2] = (n >>> 8) & 0xff;
    out[off + 3] = n & 0xff;
    out.set(f, off + 4);
    off += 4 + n;
  }
  return off;
}

/** Length-prefixed concatenation: `len32(f1) ‖ f1 ‖ len32(f2) ‖ f2 …`. */
export function encodeFields(fields: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(encodedFieldsLength(fields));
  writeFields(out, 0, fields);
  return out;
}

/** Creates the hasher of one domain. */
export function domainHasher(domain: string): DomainHasher {
  const prefix = `countersign/${domain}/v1/`;
  return Object.freeze({
    prefix,
    hash(tag: string, ...fields: Uint8Array[]): Uint8Array {
      // SHA-256 by OpenSSL: the same function as noble's, several times faster on the
      // kilobyte-sized messages the session framework digests on every delivery. The input is
      // public or, where it is secret (seeds), hashing time does not depend on its value; it is
      // built in one buffer (no concatenated copies) and wiped after use.
      const head = encoder.encode(prefix + tag);
      const input = new Uint8Array(head.length + encodedFieldsLength(fields));
      input.set(head);
      writeFields(input, head.length, fields);
      const digest = new Uint8Array(nativeHash('sha256', input, 'buffer'));
      input.fill(0);
      return digest;
    },
    hashToScalar(order: bigint, tag: string, ...fields: Uint8Array[]): bigint {
      const [[scalar]] = hash_to_field(encodeFields(fields), 1, {
        DST: prefix + tag,
        p: order,
        m: 1,
        k: 128,
        expand: 'xmd',
        hash: sha256,
      }) as [[bigint]];
      return scalar;
    },
  });
}

/** The hasher of the session framework itself (message digests, transcript echo). */
export const sessionHasher: DomainHasher = domainHasher('session');

/** ASCII/UTF-8 bytes of a label, for use as a hash field. */
export function label(s: string): Uint8Array {
  return encoder.encode(s);
}
