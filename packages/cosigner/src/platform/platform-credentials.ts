/**
 * The co-signer's credentials at its platform (packages/platform/docs/pairing.md): one rotating
 * refresh token per co-signer, and short-lived access tokens derived from it.
 *
 * The credential — platform URL, co-signer id and refresh token — is one sealed secret of the
 * store, written whole, so it never depends on any one paired API key (unpairing the key that
 * was paired first must not take the co-signer's tokens with it).
 *
 * Rotation spends the old refresh token, and presenting a spent one revokes the whole token
 * family. So every rotation runs under an exclusive lock (file-lock.ts) beside the store (no two
 * processes of this co-signer rotate at once), and the new refresh token is written to the store
 * durably *before* the access token is used. A crash between the platform's answer and that
 * write (or a lost answer, or a restored backup) leaves a spent token: the platform revokes the
 * family, and the co-signer recovers a new one with its identity key (recovery.ts) — under the
 * same lock — instead of being paired again.
 * @module
 */
import { join } from 'node:path';

import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import { withFileLock } from './file-lock.js';
import { PlatformClient } from './platform-client.js';
import { recoverRefreshToken, tokenLost } from './recovery.js';

/** Refresh this long before the access token expires, so no call carries an expired one. */
const EXPIRY_MARGIN_MS = 30_000;

/** Name of the lock database in the store directory. */
export const TOKEN_LOCK_FILE = 'platform-token.lockdb';

const CREDENTIAL_SECRET = 'platform.credential';
const CREDENTIAL_VERSION = 1;

/** Who this co-signer is at which platform. */
export interface PlatformRegistration {
  readonly platformUrl: string;
  readonly cosignerId: string;
}

interface StoredCredential extends PlatformRegistration {
  readonly refreshToken: string;
}

function readCredential(store: CosignerStore): StoredCredential | undefined {
  const bytes = store.secrets.getSecret(CREDENTIAL_SECRET);
  if (bytes === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    const { v, platformUrl, cosignerId, refreshToken } = value;
    if (
      v !== CREDENTIAL_VERSION ||
      typeof platformUrl !== 'string' ||
      typeof cosignerId !== 'string' ||
      typeof refreshToken !== 'string'
    ) {
      throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT', { detail: 'platform credential' });
    }
    return { platformUrl, cosignerId, refreshToken };
  } finally {
    bytes.fill(0);
  }
}

/** Stores (or replaces) the co-signer's credential, in one write. */
export function saveCredential(
  store: CosignerStore,
  credential: PlatformRegistration & { readonly refreshToken: string },
): void {
  const bytes = Buffer.from(
    JSON.stringify({
      v: CREDENTIAL_VERSION,
      platformUrl: credential.platformUrl,
      cosignerId: credential.cosignerId,
      refreshToken: credential.refreshToken,
    }),
  );
  try {
    store.secrets.putSecret(CREDENTIAL_SECRET, bytes, { replace: true });
  } finally {
    bytes.fill(0);
  }
}

/** The platform and co-signer id this co-signer is registered as, or undefined if never paired. */
export function platformRegistration(store: CosignerStore): PlatformRegistration | undefined {
  const credential = readCredential(store);
  return credential === undefined
    ? undefined
    : { platformUrl: credential.platformUrl, cosignerId: credential.cosignerId };
}

/**
 * Rewrites the credential's platform address, if there is a credential yet (move-platform.ts,
 * which holds the locks).
 */
export function moveCredential(store: CosignerStore, platformUrl: string): void {
  const credential = readCredential(store);
  if (credential !== undefined) saveCredential(store, { ...credential, platformUrl });
}

/** Access tokens of this co-signer, refreshed when needed. */
export class PlatformCredentials {
  readonly cosignerId: string;
  readonly client: PlatformClient;
  readonly #store: CosignerStore;
  #access: { token: string; expiresAt: number } | undefined;
  /** The rotation under way: concurrent jobs wait for it rather than rotate once each. */
  #rotating: Promise<{ token: string; expiresAt: number }> | undefined;

  constructor(store: CosignerStore) {
    const registration = platformRegistration(store);
    if (registration === undefined) throw new CosignerError('ERR_COSIGNER_NOT_PAIRED');
    this.#store = store;
    this.cosignerId = registration.cosignerId;
    this.client = new PlatformClient(registration.platformUrl);
  }

  /** A valid access token (rotating the refresh token first if the last one is near expiry). */
  async accessToken(now = Date.now()): Promise<string> {
    if (this.#access !== undefined && this.#access.expiresAt - EXPIRY_MARGIN_MS > now) {
      return this.#access.token;
    }
    this.#rotating ??= this.#rotate().finally(() => (this.#rotating = undefined));
    this.#access = await this.#rotating;
    return this.#access.token;
  }

  #rotate(): Promise<{ token: string; expiresAt: number }> {
    const lock = join(this.#store.dir, TOKEN_LOCK_FILE);
    return withFileLock(lock, async () => {
      // Read under the lock: another process may have rotated since this one last looked.
      const credential = readCredential(this.#store);
      if (credential === undefined) throw new CosignerError('ERR_COSIGNER_NOT_PAIRED');
      let answer;
      try {
        answer = await this.client.token(credential.refreshToken);
      } catch (e) {
        if (!(e instanceof CosignerError) || !tokenLost(e.platformCode)) throw e;
        // The token is spent, unknown or its family revoked: the identity key gets a new family.
        // If the platform refuses that too, the original refusal is what the caller acts on.
        const recovered = await recoverRefreshToken(this.#store, credential).catch((r: unknown) => {
          throw r instanceof CosignerError && r.code === 'ERR_COSIGNER_PLATFORM_REFUSED' ? e : r;
        });
        saveCredential(this.#store, { ...credential, refreshToken: recovered });
        answer = await this.client.token(recovered);
      }
      saveCredential(this.#store, { ...credential, refreshToken: answer.refreshToken });
      return { token: answer.accessToken, expiresAt: answer.expiresAt };
    });
  }
}
