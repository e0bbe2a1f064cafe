/**
 * A co-signer's identity (ARCHITECTURE §5): a long-term Ed25519 public key
 * (signs its MPC messages) and an X25519 public key (end-to-end encryption),
 * each 32 raw bytes, sent as hex or base64/base64url and stored as hex.
 *
 * Both must be usable keys (pairing review L1): the platform signs rosters
 * naming them, so a key of small order — whose "signatures" anyone can forge
 * under lenient verification, or whose X25519 shared secret is a constant the
 * relay could compute — or a non-canonical encoding is refused.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { ValidationError } from '../errors.js';

export interface CosignerIdentity {
  ed25519: string;
  x25519: string;
}

const KEY_BYTES = 32;
const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]{43}=?$/;

export function parseCosignerIdentity(input: {
  ed25519: string;
  x25519: string;
}): CosignerIdentity {
  const ed = rawKey(input.ed25519, 'ed25519');
  const x = rawKey(input.x25519, 'x25519');
  if (!usableEd25519(ed)) {
    throw invalid(
      'identity.ed25519 is not a usable Ed25519 public key (off the curve, non-canonical or of small order)',
    );
  }
  if (!usableX25519(x)) {
    throw invalid(
      'identity.x25519 is not a usable X25519 public key (non-canonical or of low order)',
    );
  }
  return { ed25519: ed.toString('hex'), x25519: x.toString('hex') };
}

/** A canonical encoding (y < p) of a curve point in the prime-order subgroup, not the identity. */
function usableEd25519(bytes: Buffer): boolean {
  try {
    // zip215 off: RFC 8032 decoding, which refuses y >= p.
    const point = ed25519.Point.fromBytes(bytes, false);
    return !point.isSmallOrder() && point.isTorsionFree();
  } catch {
    return false;
  }
}

/** p = 2^255 - 19, little-endian, for the canonical-u check. */
const P25519 = (1n << 255n) - 19n;

/** u < p (the top bit unused), and no low-order point: a shared secret with it is not constant. */
function usableX25519(bytes: Buffer): boolean {
  const u = BigInt(`0x${Buffer.from(bytes).reverse().toString('hex')}`);
  if (u >= P25519) return false;
  try {
    // noble refuses an all-zero shared secret, which every low-order u yields.
    x25519.getSharedSecret(x25519.utils.randomSecretKey(), bytes);
    return true;
  } catch {
    return false;
  }
}

function invalid(message: string): ValidationError {
  return new ValidationError('ERR_COSIGNER_IDENTITY', 'COSIGNER_IDENTITY_INVALID', message);
}

function rawKey(value: string, field: string): Buffer {
  let bytes: Buffer | undefined;
  if (HEX.test(value)) bytes = Buffer.from(value, 'hex');
  else if (BASE64.test(value)) {
    // Only the canonical encoding: the unused low bits of the last character must be zero.
    const normalized = value.replace(/=$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const decoded = Buffer.from(normalized, 'base64url');
    if (decoded.toString('base64url') === normalized) bytes = decoded;
  }
  if (!bytes || bytes.length !== KEY_BYTES) {
    throw invalid(
      `identity.${field} must be a raw 32-byte public key in hex (64 digits) or base64`,
    );
  }
  return bytes;
}
