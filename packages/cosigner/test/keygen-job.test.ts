// The KEYGEN job's restart rules: a share set already stored is reported from the store (no
// second DKG), and a re-offered lease without one fails instead of re-running the session with
// fresh randomness. The full protocol run is tested end to end in packages/cli/test.
import { join } from 'node:path';
import type { LeasedJob } from '@countersign/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { PartyIdentity } from '../src/channel/identity.js';
import { runKeygenJob, shareSetPublicMetaKey, type JobContext } from '../src/daemon/keygen-job.js';
import { KeyedSlots } from '../src/daemon/slots.js';
import { isCosignerError } from '../src/errors.js';
import type { PlatformClient } from '../src/platform/platform-client.js';
import { initStore } from '../src/store/cosigner-store.js';
import { cleanupTempDirs, tempDir, testLocalKms } from './store-helpers.js';

afterAll(cleanupTempDirs);

const job: LeasedJob = {
  jobId: '00000000-0000-4000-8000-000000000001',
  type: 'KEYGEN',
  leaseId: '00000000-0000-4000-8000-000000000002',
  leaseExpiresAt: Date.now() + 60_000,
  attempt: 2,
  sessionId: 'ab'.repeat(32),
  workspaceId: '00000000-0000-4000-8000-000000000003',
  apiKeyId: '00000000-0000-4000-8000-000000000004',
  algorithm: 'EDDSA_ED25519',
  shareSetId: 'share-set-1',
  threshold: 3,
};

describe('KEYGEN job restarts', () => {
  it('answers from the store, or refuses to re-run an interrupted session', async () => {
    const dir = await tempDir();
    const store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
    const identity = PartyIdentity.generate();
    const calls: string[] = [];
    // Any platform call would be a second run: the stub records it.
    const client = new Proxy(
      {},
      {
        get: (_t, name) => () => {
          calls.push(String(name));
          throw new Error('no platform call expected');
        },
      },
    ) as PlatformClient;
    const ctx: JobContext = {
      client,
      accessToken: () => Promise.resolve('csat_test'),
      store,
      identity,
      platformKey: new Uint8Array(32).fill(7),
      signal: new AbortController().signal,
      presignSlots: new KeyedSlots(8),
    };
    try {
      let refused: unknown;
      try {
        await runKeygenJob(ctx, job);
      } catch (e) {
        refused = e;
      }
      expect(isCosignerError(refused, 'ERR_COSIGNER_INVALID_ARGUMENT')).toBe(true);

      const outcome = { publicKey: 'cd'.repeat(32), chainCode: 'ef'.repeat(32) };
      store.shareSets.putShareSet({
        id: job.shareSetId,
        apiKeyId: job.apiKeyId,
        algorithm: job.algorithm,
        share: new Uint8Array(64).fill(1),
      });
      store.setMeta(shareSetPublicMetaKey(job.shareSetId), JSON.stringify(outcome));
      expect(await runKeygenJob(ctx, job)).toEqual(outcome);
      expect(calls).toEqual([]);
    } finally {
      identity.dispose();
      store.close();
    }
  });
});

describe('daemon', () => {
  it('stops (rejects) when the platform refuses its credentials, instead of retrying forever', async () => {
    const { createServer } = await import('node:http');
    const { runDaemon } = await import('../src/daemon/cosigner-daemon.js');
    const { createStoredIdentity } = await import('../src/identity/stored-identity.js');
    const { pinPlatformKey } = await import('../src/platform/platform-key.js');
    const paths: string[] = [];
    const server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Token family revoked', code: 1307 }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dir = await tempDir();
    const store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
    try {
      createStoredIdentity(store).dispose();
      pinPlatformKey(store, '11'.repeat(32));
      const { saveCredential } = await import('../src/platform/platform-credentials.js');
      saveCredential(store, {
        cosignerId: '00000000-0000-4000-8000-000000000009',
        platformUrl: `http://127.0.0.1:${port}`,
        refreshToken: `csrt_${'A'.repeat(43)}`,
      });
      let refused: unknown;
      try {
        await runDaemon({
          store,
          signal: new AbortController().signal,
          log: { info: () => undefined, warn: () => undefined },
        });
      } catch (e) {
        refused = e;
      }
      expect(isCosignerError(refused, 'ERR_COSIGNER_PLATFORM_REFUSED')).toBe(true);
      // One token request, refused; one recovery with the identity key (pairing review H2),
      // refused too; then it stops rather than retry.
      expect(paths).toEqual(['/cosigner/v1/token', '/cosigner/v1/recover']);
    } finally {
      store.close();
      server.close();
    }
  });
});
