/**
 * A co-signer's identity (ARCHITECTURE §5): a long-term Ed25519 public key
 * (signs its MPC messages) and an X25519 public key (end-to-end encryption),
 * each 32 raw bytes, sent as hex or base64/base64url and stored as hex.
 */
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
  return {
    ed25519: rawKeyHex(input.ed25519, 'ed25519'),
    x25519: rawKeyHex(input.x25519, 'x25519'),
  };
}

function rawKeyHex(value: string, field: string): string {
  let bytes: Buffer | undefined;
  if (HEX.test(value)) bytes = Buffer.from(value, 'hex');
  else if (BASE64.test(value)) {
    // Only the canonical encoding: the unused low bits of the last character must be zero.
    const normalized = value.replace(/=$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const decoded = Buffer.from(normalized, 'base64url');
    if (decoded.toString('base64url') === normalized) bytes = decoded;
  }
  if (!bytes || bytes.length !== KEY_BYTES) {
    throw new ValidationError(
      'ERR_COSIGNER_IDENTITY',
      'COSIGNER_IDENTITY_INVALID',
      `identity.${field} must be a raw 32-byte public key in hex (64 digits) or base64`,
    );
  }
  if (bytes.every((b) => b === 0)) {
    throw new ValidationError(
      'ERR_COSIGNER_IDENTITY',
      'COSIGNER_IDENTITY_INVALID',
      `identity.${field} must not be all zeros`,
    );
  }
  return bytes.toString('hex');
}
