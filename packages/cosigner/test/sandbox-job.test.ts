// The communal test co-signer's check before every job (sandbox-job.ts): the job's API key must
// be PAIRED to it in the job's workspace, and that workspace a sandbox, by the platform's list of
// its pairings; a key it learns that way is recorded. The platform is a stub that answers the
// list (the platform side and a full run are tested in packages/platform and packages/cli).
import { join } from 'node:path';
import type { CosignerApiKeysResponse, LeasedJob } from '@countersign/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { PartyIdentity } from '../src/channel/identity.js';
import type { JobContext } from '../src/daemon/job-context.js';
import { assertSandboxJob } from '../src/daemon/sandbox-job.js';
import { KeyedSlots } from '../src/daemon/slots.js';
import { isCosignerError } from '../src/errors.js';
import type { PlatformClient } from '../src/platform/platform-client.js';
import { initStore, type CosignerStore } from '../src/store/cosigner-store.js';
import { cleanupTempDirs, tempDir, testLocalKms } from './store-helpers.js';

afterAll(cleanupTempDirs);

const COSIGNER = '00000000-0000-4000-8000-0000000000c5';
const SANDBOX = '00000000-0000-4000-8000-000000000005';
const PRODUCTION = '00000000-0000-4000-8000-000000000006';
const job = (apiKeyId: string, workspaceId = SANDBOX): LeasedJob => ({
  jobId: '00000000-0000-4000-8000-000000000001',
  type: 'KEYGEN',
  leaseId: '00000000-0000-4000-8000-000000000002',
  leaseExpiresAt: Date.now() + 60_000,
  attempt: 1,
  sessionId: 'ab'.repeat(32),
  workspaceId,
  apiKeyId,
  algorithm: 'EDDSA_ED25519',
  shareSetId: 'share-set-1',
  threshold: 3,
});
const key = (n: number): string => `00000000-0000-4000-8000-00000000010${n}`;

describe('the communal test co-signer takes sandbox work only', () => {
  it('records a sandbox API key; refuses a production workspace, another workspace, an unlisted or unpaired key', async () => {
    const dir = await tempDir();
    const store: CosignerStore = await initStore({
      dir: join(dir, 'store'),
      kms: await testLocalKms(dir),
    });
    const listing: CosignerApiKeysResponse = {
      cosignerId: COSIGNER,
      apiKeys: [
        {
          apiKeyId: key(1),
          workspaceId: SANDBOX,
          workspaceSandbox: true,
          status: 'PAIRED',
          requestId: null,
        },
        {
          apiKeyId: key(2),
          workspaceId: PRODUCTION,
          workspaceSandbox: false,
          status: 'PAIRED',
          requestId: null,
        },
        {
          apiKeyId: key(3),
          workspaceId: SANDBOX,
          workspaceSandbox: true,
          status: 'UNPAIRED',
          requestId: null,
        },
      ],
    };
    let asked = 0;
    const client = {
      baseUrl: 'http://127.0.0.1:1',
      apiKeys: (token: string) => {
        expect(token).toBe('csat_test');
        asked += 1;
        return Promise.resolve(listing);
      },
    } as unknown as PlatformClient;
    const identity = PartyIdentity.generate();
    const ctx: JobContext = {
      client,
      accessToken: () => Promise.resolve('csat_test'),
      store,
      identity,
      platformKey: new Uint8Array(32).fill(7),
      signal: new AbortController().signal,
      mode: 'api',
      sandbox: true,
      presignSlots: new KeyedSlots(8),
    };
    const refusal = async (j: LeasedJob): Promise<string> => {
      try {
        await assertSandboxJob(ctx, j);
      } catch (e) {
        expect(isCosignerError(e, 'ERR_COSIGNER_NOT_FOUND')).toBe(true);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    try {
      // Both algorithms' first jobs for a new key run at once: one record, no conflict.
      await Promise.all([assertSandboxJob(ctx, job(key(1))), assertSandboxJob(ctx, job(key(1)))]);
      expect(store.pairedApiKeys.getPairedApiKey(key(1))).toMatchObject({
        apiKeyId: key(1),
        cosignerId: COSIGNER,
        unpairedAt: null,
      });
      // Known now, and still checked against the platform's list at every job.
      await assertSandboxJob(ctx, job(key(1)));
      expect(asked).toBe(3);

      expect(await refusal(job(key(2), PRODUCTION))).toMatch(/is not a sandbox/);
      // A sandbox key presented as another workspace's work.
      expect(await refusal(job(key(1), PRODUCTION))).toMatch(/not paired here in workspace/);
      expect(await refusal(job(key(3)))).toMatch(/not paired here/);
      expect(await refusal(job(key(4)))).toMatch(/not paired here/);
      for (const n of [2, 3, 4])
        expect(store.pairedApiKeys.getPairedApiKey(key(n))).toBeUndefined();

      // Unpaired here: refused without asking the platform.
      store.pairedApiKeys.markUnpaired(key(1));
      const before = asked;
      expect(await refusal(job(key(1)))).toMatch(/was unpaired here/);
      expect(asked).toBe(before);
    } finally {
      identity.dispose();
      store.close();
    }
  });
});
