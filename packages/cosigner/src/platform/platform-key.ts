/**
 * The platform's roster-signing key, pinned (trust on first use) at the co-signer's first
 * pairing. Every session roster is verified against the pinned key, so a platform — or whoever
 * stands in for it later — that starts signing with another key is refused rather than trusted:
 * a later pairing answer that names another key fails before anything is stored.
 * @module
 */
import { constantTimeEqual } from '../channel/wire-bytes.js';
import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';

const PLATFORM_KEY_SECRET = 'platform.authorization-ed25519';
const HEX_KEY = /^[0-9a-f]{64}$/;

function parseKey(hex: string): Uint8Array {
  if (!HEX_KEY.test(hex))
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'platformKey' });
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * Checks `hex` against the pinned key: stores it if none is pinned yet (returns true), accepts
 * it if equal (returns false), refuses it otherwise.
 */
export function checkPlatformKey(store: CosignerStore, hex: string): boolean {
  const key = parseKey(hex);
  const pinned = store.secrets.getSecret(PLATFORM_KEY_SECRET);
  if (pinned === undefined) return true;
  if (!constantTimeEqual(pinned, key)) throw new CosignerError('ERR_COSIGNER_PLATFORM_KEY_CHANGED');
  return false;
}

/** Pins `hex` if no key is pinned yet; refuses a different key. */
export function pinPlatformKey(store: CosignerStore, hex: string): void {
  if (checkPlatformKey(store, hex)) store.secrets.putSecret(PLATFORM_KEY_SECRET, parseKey(hex));
}

/** The pinned key; ERR_COSIGNER_NOT_PAIRED before the first pairing. */
export function pinnedPlatformKey(store: CosignerStore): Uint8Array {
  const key = store.secrets.getSecret(PLATFORM_KEY_SECRET);
  if (key === undefined) throw new CosignerError('ERR_COSIGNER_NOT_PAIRED');
  return key;
}
