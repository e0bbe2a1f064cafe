/**
 * The co-signer's credentials at its platform (packages/platform/docs/pairing.md): one rotating
 * refresh token per co-signer, kept sealed in the store on the paired API key that received it,
 * and short-lived access tokens derived from it.
 *
 * Rotation spends the old refresh token, and presenting a spent one revokes the whole token
 * family. So every rotation runs under an exclusive lock (file-lock.ts) beside the store (no two processes
 * of this co-signer rotate at once), and the new refresh token is written to the store durably
 * *before* the access token is used. A crash between the platform's answer and that write loses
 * the family; the co-signer must then be paired again.
 * @module
 */
import { join } from 'node:path';

import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import type { PairedApiKeyRecord } from '../store/paired-api-key-repository.js';
import { withFileLock } from './file-lock.js';
import { PlatformClient } from './platform-client.js';

/** Refresh this long before the access token expires, so no call carries an expired one. */
const EXPIRY_MARGIN_MS = 30_000;

/** Name of the lock file in the store directory. */
export const TOKEN_LOCK_FILE = 'platform-token.lockdb';

/** The paired API key holding the co-signer's refresh token, or undefined when not paired. */
export function credentialHolder(store: CosignerStore): PairedApiKeyRecord | undefined {
  return store.pairedApiKeys.listPairedApiKeys().find((p) => p.hasRefreshToken);
}

/** Access tokens of this co-signer, refreshed when needed. */
export class PlatformCredentials {
  readonly cosignerId: string;
  readonly client: PlatformClient;
  readonly #store: CosignerStore;
  readonly #holder: string;
  #access: { token: string; expiresAt: number } | undefined;

  constructor(store: CosignerStore) {
    const holder = credentialHolder(store);
    if (holder === undefined) throw new CosignerError('ERR_COSIGNER_NOT_PAIRED');
    this.#store = store;
    this.#holder = holder.apiKeyId;
    this.cosignerId = holder.cosignerId;
    this.client = new PlatformClient(holder.platformUrl);
  }

  /** A valid access token (rotating the refresh token first if the last one is near expiry). */
  async accessToken(now = Date.now()): Promise<string> {
    if (this.#access !== undefined && this.#access.expiresAt - EXPIRY_MARGIN_MS > now) {
      return this.#access.token;
    }
    const lock = join(this.#store.dir, TOKEN_LOCK_FILE);
    this.#access = await withFileLock(lock, async () => {
      const refreshToken = this.#store.pairedApiKeys.readRefreshToken(this.#holder);
      if (refreshToken === undefined) throw new CosignerError('ERR_COSIGNER_NOT_PAIRED');
      const answer = await this.client.token(refreshToken);
      this.#store.pairedApiKeys.setRefreshToken(this.#holder, answer.refreshToken);
      return { token: answer.accessToken, expiresAt: answer.expiresAt };
    });
    return this.#access.token;
  }
}
