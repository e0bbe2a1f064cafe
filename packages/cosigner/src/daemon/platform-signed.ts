/**
 * What the platform signs for one session beside its roster — the signing authorization, the
 * reshare authorization — arrives as base64 of `canonical bytes ‖ Ed25519 signature`. It is
 * decoded strictly and its signature checked against the platform key pinned at pairing (RFC 8032,
 * strict: not ZIP-215) before any field is used; every failure is the caller's refusal.
 * @module
 */
import { verifyEd25519Strict } from '../channel/ed25519-strict.js';
import type { CosignerError } from '../errors.js';

export interface PlatformSigned {
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

export function verifyPlatformSigned<T extends PlatformSigned>(
  signed: string | undefined,
  decode: (bytes: Uint8Array) => T,
  platformKey: Uint8Array,
  refused: (detail: string) => CosignerError,
): T {
  if (signed === undefined) throw refused('missing');
  let decoded: T;
  try {
    decoded = decode(Uint8Array.from(Buffer.from(signed, 'base64')));
  } catch {
    throw refused('malformed');
  }
  if (!verifyEd25519Strict(decoded.signature, decoded.signedBytes, platformKey))
    throw refused('signature does not verify against the pinned platform key');
  return decoded;
}
