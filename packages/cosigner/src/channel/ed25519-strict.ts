/**
 * Ed25519 (RFC 8032) for the channel, the roster and what the platform signs, computed by
 * node:crypto (OpenSSL) with the strict acceptance rules of noble's `zip215: false`.
 *
 * Why: every MPC message is signed by its sender and verified by each receiver, and a signing
 * session also checks the roster, the authorization and the signature; with noble each of these
 * costs milliseconds of JavaScript field arithmetic, OpenSSL a few microseconds.
 *
 * Same signatures: Ed25519 signing is deterministic (RFC 8032 §5.1.6), so OpenSSL and noble
 * produce the same bytes for the same key and message (test/channel-ed25519.test.ts).
 *
 * Same or stricter verification: noble strict accepts a signature when A and R are canonical
 * encodings (y < p), s < L, A is not of small order, and the cofactored equation
 * [8][s]B = [8]R + [8][k]A holds. OpenSSL (3.x `ossl_ed25519_verify`) refuses s ≥ L, computes
 * R' = [s]B − [k]A and compares its canonical encoding byte for byte with R (so a non-canonical R
 * fails), which is the cofactorless equation — it implies the cofactored one. What OpenSSL does not
 * check is A's canonical encoding and order; {@link assertIdentityKey} checks exactly that (with
 * noble, once per key). So whatever verifies here verifies under noble strict; an honest signature
 * verifies under both.
 * @module
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ChannelError } from './channel-errors.js';

/** Length of an Ed25519 key (secret seed or public key). */
const KEY_LENGTH = 32;
/** Length of an Ed25519 signature. */
const SIGNATURE_LENGTH = 64;
// DER prefixes of the one fixed form each key takes (RFC 8410 §4, §7): SubjectPublicKeyInfo and
// PKCS #8 OneAsymmetricKey for id-Ed25519 (1.3.101.112), followed by the raw 32 bytes.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Public keys already found canonical and not of small order, as OpenSSL key objects. A daemon
 * meets few keys (its peers' identities, the platform's), so the bound is only a guard.
 */
const MAX_CACHED_KEYS = 1024;
const checkedKeys = new Map<string, KeyObject>();

/**
 * Asserts a canonical Ed25519 public key (RFC 8032 §5.1.3 strict decoding, not ZIP-215) of a
 * point that is not of small order, so no signature can verify under it for every message.
 */
export function assertIdentityKey(key: unknown, field = 'identity key'): asserts key is Uint8Array {
  if (publicKeyObject(key) === undefined)
    throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: field });
}

/** The OpenSSL key of a valid identity key (see {@link assertIdentityKey}), else undefined. */
function publicKeyObject(key: unknown): KeyObject | undefined {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) return undefined;
  const hex = Buffer.from(key).toString('hex');
  const cached = checkedKeys.get(hex);
  if (cached !== undefined) return cached;
  try {
    if (ed25519.Point.fromBytes(key, false).isSmallOrder()) return undefined;
  } catch {
    return undefined;
  }
  const keyObject = createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, key]),
    format: 'der',
    type: 'spki',
  });
  if (checkedKeys.size >= MAX_CACHED_KEYS) checkedKeys.clear();
  checkedKeys.set(hex, keyObject);
  return keyObject;
}

/**
 * Strict Ed25519 verification (see the module doc): false for any malformed input, a public key
 * that is not canonical or of small order, or a signature that does not verify.
 */
export function verifyEd25519Strict(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  if (!(message instanceof Uint8Array)) return false;
  const key = publicKeyObject(publicKey);
  if (key === undefined) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** An Ed25519 signing key held by OpenSSL, made from a 32-byte RFC 8032 seed. */
export function ed25519SigningKey(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== KEY_LENGTH)
    throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: 'secret key' });
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

/** Ed25519 signature (RFC 8032 §5.1.6) of `message` by a key of {@link ed25519SigningKey}. */
export function signEd25519(key: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, key));
}
