/**
 * The platform moved (another host or port): point a co-signer at its new address, keeping its
 * identity, tokens and shares — the credential, the waiting pairings and the pairing records, in
 * one store transaction.
 *
 * The co-signer must be stopped: a running daemon keeps using the address it started with, so
 * the daemon's lock is taken first and a held one refused. The token lock too, so a rotation in
 * another process cannot write the old address back. The pinned platform key still
 * authenticates every roster and authorization, so a wrong address can only fail, never forge;
 * but the refresh token is sent there, so the address is the operator's choice, as at setup.
 * @module
 */
import { join } from 'node:path';

import { DAEMON_LOCK_FILE } from '../daemon/daemon-lock.js';
import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import { withSqliteErrors } from '../store/sqlite-errors.js';
import { tryFileLock, withFileLock } from './file-lock.js';
import { pendingPairings, movePendingPairings } from './pending-pairings.js';
import { platformRegistration, moveCredential, TOKEN_LOCK_FILE } from './platform-credentials.js';
import { PlatformClient } from './platform-client.js';

export async function movePlatform(store: CosignerStore, platformUrl: string): Promise<void> {
  const to = new PlatformClient(platformUrl).baseUrl;
  const daemon = tryFileLock(join(store.dir, DAEMON_LOCK_FILE));
  if (daemon === undefined) throw new CosignerError('ERR_COSIGNER_STORE_IN_USE');
  try {
    await withFileLock(join(store.dir, TOKEN_LOCK_FILE), () => {
      const from =
        platformRegistration(store)?.platformUrl ?? pendingPairings(store)[0]?.platformUrl;
      if (from === undefined) throw new CosignerError('ERR_COSIGNER_NOT_PAIRED');
      // Repository calls nest as savepoints inside this one IMMEDIATE transaction.
      withSqliteErrors(() =>
        store
          .connection()
          .transaction(() => {
            store.pairedApiKeys.movePlatform(from, to);
            movePendingPairings(store, to);
            moveCredential(store, to);
          })
          .immediate(),
      );
      return Promise.resolve();
    });
  } finally {
    daemon.release();
  }
}
