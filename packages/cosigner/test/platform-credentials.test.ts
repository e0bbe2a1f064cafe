// The co-signer's platform credential: one sealed record, independent of the paired API keys.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { DAEMON_LOCK_FILE } from '../src/daemon/daemon-lock.js';
import { tryFileLock } from '../src/platform/file-lock.js';
import { movePlatform } from '../src/platform/move-platform.js';
import { addPendingPairing, pendingPairings } from '../src/platform/pending-pairings.js';
import {
  PlatformCredentials,
  platformRegistration,
  saveCredential,
} from '../src/platform/platform-credentials.js';
import { initStore } from '../src/store/cosigner-store.js';
import { cleanupTempDirs, tempDir, testLocalKms } from './store-helpers.js';

afterAll(cleanupTempDirs);

async function newStore() {
  const dir = await tempDir('cosigner-credential-');
  return initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
}

describe('platform credential', () => {
  it('is absent before pairing, then survives unpairing the API key paired first', async () => {
    const store = await newStore();
    expect(platformRegistration(store)).toBeUndefined();
    expect(() => new PlatformCredentials(store)).toThrow(/not paired/);
    const cosignerId = '7b0b6f5e-3a55-4d8e-9a4e-0f6c1d2e3f40';
    saveCredential(store, {
      platformUrl: 'https://platform.example',
      cosignerId,
      refreshToken: 'csrt_first',
    });
    store.pairedApiKeys.addPairedApiKey({
      apiKeyId: 'key-1',
      cosignerId,
      platformUrl: 'https://platform.example',
    });
    store.pairedApiKeys.markUnpaired('key-1');
    expect(platformRegistration(store)).toEqual({
      platformUrl: 'https://platform.example',
      cosignerId,
    });
    expect(new PlatformCredentials(store).cosignerId).toBe(cosignerId);
    store.close();
  });

  it("moves to the platform's new address: credential, pairings and waiting pairings, token and id kept", async () => {
    const store = await newStore();
    await expect(movePlatform(store, 'http://127.0.0.1:9000')).rejects.toThrow(/not paired/);
    const cosignerId = '7b0b6f5e-3a55-4d8e-9a4e-0f6c1d2e3f40';
    const waiting = {
      platformUrl: 'http://127.0.0.1:8080',
      cosignerId,
      apiKeyId: 'key-3',
      requestId: 'request-3',
      pollToken: 'poll-3',
      identityFingerprint: 'fingerprint',
    };
    // A co-signer whose first pairing still waits for the Owner moves too.
    addPendingPairing(store, waiting);
    await movePlatform(store, 'http://127.0.0.1:8081');
    expect(pendingPairings(store)).toEqual([{ ...waiting, platformUrl: 'http://127.0.0.1:8081' }]);
    addPendingPairing(store, waiting);

    saveCredential(store, { platformUrl: 'http://127.0.0.1:8080', cosignerId, refreshToken: 'r1' });
    for (const [apiKeyId, platformUrl] of [
      ['key-1', 'http://127.0.0.1:8080'],
      ['key-2', 'https://elsewhere.example'],
    ] as const) {
      store.pairedApiKeys.addPairedApiKey({ apiKeyId, cosignerId, platformUrl });
    }
    await expect(movePlatform(store, 'not a url')).rejects.toThrow();
    // Plain http only on loopback, as at setup.
    await expect(movePlatform(store, 'http://platform.example')).rejects.toThrow();
    // A running daemon keeps the address it started with: refused, nothing changed.
    const daemon = tryFileLock(join(store.dir, DAEMON_LOCK_FILE))!;
    await expect(movePlatform(store, 'http://127.0.0.1:9000')).rejects.toMatchObject({
      code: 'ERR_COSIGNER_STORE_IN_USE',
    });
    daemon.release();
    expect(platformRegistration(store)?.platformUrl).toBe('http://127.0.0.1:8080');

    await movePlatform(store, 'http://127.0.0.1:9000/');
    expect(platformRegistration(store)).toEqual({
      platformUrl: 'http://127.0.0.1:9000',
      cosignerId,
    });
    expect(store.pairedApiKeys.listPairedApiKeys().map((k) => [k.apiKeyId, k.platformUrl])).toEqual(
      [
        ['key-1', 'http://127.0.0.1:9000'],
        ['key-2', 'https://elsewhere.example'],
      ],
    );
    expect(pendingPairings(store).map((p) => p.platformUrl)).toEqual(['http://127.0.0.1:9000']);
    store.close();
  });

  it('is replaced whole, and a record of another shape is refused, never half-read', async () => {
    const store = await newStore();
    saveCredential(store, {
      platformUrl: 'https://a.example',
      cosignerId: 'c1',
      refreshToken: 't1',
    });
    saveCredential(store, {
      platformUrl: 'https://a.example',
      cosignerId: 'c1',
      refreshToken: 't2',
    });
    expect(platformRegistration(store)).toEqual({
      platformUrl: 'https://a.example',
      cosignerId: 'c1',
    });
    store.secrets.putSecret('platform.credential', Buffer.from('{"v":2}'), { replace: true });
    expect(() => platformRegistration(store)).toThrow(/damaged/);
    store.close();
  });

  it('is sealed: the refresh token is not in the database file', async () => {
    const store = await newStore();
    saveCredential(store, {
      platformUrl: 'https://a.example',
      cosignerId: 'c1',
      refreshToken: 'csrt_MARKER_0123456789',
    });
    const dir = store.dir;
    store.close();
    for (const file of await readdir(dir)) {
      expect((await readFile(join(dir, file))).includes('MARKER')).toBe(false);
    }
  });
});
