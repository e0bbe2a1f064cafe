/**
 * Recovery with the identity key (pairing review H2; packages/platform/docs/pairing.md,
 * "Recovery"): when the platform no longer takes this co-signer's refresh token — a rotation's
 * answer was lost, the process died before storing it, a backup was restored — or the answer
 * that carried its first refresh token was lost, the co-signer signs a recovery request with its
 * Ed25519 identity key and gets a new token family, without pairing again. The request is bound
 * to the co-signer id, the platform's pinned authorization key, a fresh random nonce and an
 * expiry two minutes away; the platform accepts each nonce once.
 * @module
 */
import { randomBytes } from 'node:crypto';

import { recoveryMessage } from '@countersign/protocol';

import { loadStoredIdentity } from '../identity/stored-identity.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import { PlatformClient } from './platform-client.js';
import { pinnedPlatformKey } from './platform-key.js';

/** Who this co-signer is at which platform (as in its stored credential). */
interface Registration {
  readonly platformUrl: string;
  readonly cosignerId: string;
}

/** Lifetime of a signed recovery request (the platform accepts at most 5 minutes). */
const REQUEST_LIFETIME_MS = 2 * 60_000;

/** Platform codes after which the identity key can restore the credential (1304–1307). */
export function tokenLost(platformCode: number | undefined): boolean {
  return platformCode !== undefined && platformCode >= 1304 && platformCode <= 1307;
}

/** A new refresh token for this co-signer; the caller stores it before using it. */
export async function recoverRefreshToken(
  store: CosignerStore,
  registration: Registration,
  /** The platform's authorization key (hex); default the one pinned at the first pairing. */
  platformKey = Buffer.from(pinnedPlatformKey(store)).toString('hex'),
): Promise<string> {
  const issuedAt = Date.now();
  const unsigned = {
    cosignerId: registration.cosignerId,
    nonce: randomBytes(24).toString('base64url'),
    issuedAt,
    expiresAt: issuedAt + REQUEST_LIFETIME_MS,
  };
  const signature = signedByIdentity(store, recoveryMessage({ ...unsigned, platformKey }));
  const answer = await new PlatformClient(registration.platformUrl).recover({
    ...unsigned,
    signature,
  });
  return answer.refreshToken;
}

/** The stored identity key's Ed25519 signature of `message`, hex; the secret key is wiped after. */
export function signedByIdentity(store: CosignerStore, message: Uint8Array): string {
  const identity = loadStoredIdentity(store);
  try {
    return Buffer.from(identity.sign(message)).toString('hex');
  } finally {
    identity.dispose();
  }
}
