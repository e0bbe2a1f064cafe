// The SIGN job's Callback Handler step (raw-signing review C1, L4): the tx_sign_request comes from
// the verified authorization only, its requestId is one per (transaction, message, content) and
// the same for every session of that message; an API key not paired here, or unpaired, gets
// nothing; a session that would expire before an answer is not asked. The handler asks
// themselves, against real processes, are in packages/cli/test/cosigner-callback.test.ts.
import {
  TxSignRequestSchema,
  type LeasedJob,
  type SigningAuthorization,
} from '@countersign/protocol';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';

import type { CosignerStore } from '../src/store/cosigner-store.js';
import type { PairedApiKeyRepository } from '../src/store/paired-api-key-repository.js';
import type { JobContext } from '../src/daemon/job-context.js';
import { approveByCallback, txSignRequestFor } from '../src/daemon/sign-callback.js';
import { pairedApiKeysTable } from './paired-api-keys-table.js';

const API_KEY = '00000000-0000-4000-8000-000000000001';

const authorization = (over: Partial<SigningAuthorization> = {}): SigningAuthorization => ({
  sessionId: new Uint8Array(32).fill(1),
  shareSetId: 'ss-1',
  algorithm: 'EDDSA_ED25519',
  transactionId: '0f8fad5b-d9cb-469f-a165-70867728950e',
  messageIndex: 0,
  derivationPath: [44, 0, 3, 0, 0],
  content: Buffer.from('hello'),
  expiresAt: Date.now() + 10 * 60_000,
  ...over,
});

const job = (over: Partial<LeasedJob> = {}): LeasedJob => ({
  jobId: '00000000-0000-4000-8000-00000000000a',
  type: 'SIGN',
  leaseId: '00000000-0000-4000-8000-00000000000b',
  leaseExpiresAt: Date.now() + 10 * 60_000,
  attempt: 1,
  sessionId: '01'.repeat(32),
  workspaceId: '00000000-0000-4000-8000-00000000000c',
  apiKeyId: API_KEY,
  algorithm: 'EDDSA_ED25519',
  shareSetId: 'ss-1',
  threshold: 3,
  ...over,
});

/** A context over a real paired_api_keys table; nothing else of the store may be touched. */
function context(mode: 'api' | 'cloud', setup: (repo: PairedApiKeyRepository) => void = () => {}) {
  const { repo } = pairedApiKeysTable();
  setup(repo);
  const store = new Proxy({ pairedApiKeys: repo } as unknown as CosignerStore, {
    get: (target, name) => {
      if (name === 'pairedApiKeys' && mode === 'api') return target.pairedApiKeys;
      throw new Error(`store.${String(name)} not expected`);
    },
  });
  return { store, signal: new AbortController().signal, mode } as unknown as JobContext;
}

const paired = (repo: PairedApiKeyRepository) =>
  repo.addPairedApiKey({ apiKeyId: API_KEY, cosignerId: 'cs-1', platformUrl: 'https://p.example' });

describe('the SIGN job asks the Callback Handler', () => {
  it('builds a schema-valid tx_sign_request from the authorization only', () => {
    const request = txSignRequestFor(authorization(), API_KEY);
    expect(Value.Check(TxSignRequestSchema, request)).toBe(true);
    expect(request).toMatchObject({
      txId: '0f8fad5b-d9cb-469f-a165-70867728950e',
      operation: 'RAW',
      signerId: API_KEY,
      rawMessages: [
        {
          content: Buffer.from('hello').toString('hex'),
          derivationPath: [44, 0, 3, 0, 0],
          algorithm: 'MPC_EDDSA_ED25519',
        },
      ],
      destinations: [],
    });
    expect(request).not.toHaveProperty('externalTxId');
    expect(request).not.toHaveProperty('fee');
  });

  it('one requestId per transaction, message and content; the same for a fresh session', () => {
    const id = (over: Partial<SigningAuthorization>) =>
      txSignRequestFor(authorization(over), API_KEY).requestId;
    const first = id({});
    expect(first).toMatch(/^0f8fad5b-d9cb-469f-a165-70867728950e:0:[0-9a-f]{32}$/);
    expect(id({ sessionId: new Uint8Array(32).fill(2), expiresAt: Date.now() + 1 })).toBe(first);
    expect(id({ messageIndex: 1 })).not.toBe(first);
    expect(id({ content: Buffer.from('hellp') })).not.toBe(first);
    expect(id({ derivationPath: [44, 0, 3, 0, 1] })).not.toBe(first);
    expect(id({ transactionId: 'other' })).not.toBe(first);
  });

  it('refuses an API key never paired here or unpaired (L4)', async () => {
    await expect(approveByCallback(context('api'), job(), authorization())).rejects.toMatchObject({
      code: 'ERR_COSIGNER_NOT_FOUND',
    });
    const unpaired = context('api', (repo) => {
      paired(repo);
      repo.markUnpaired(API_KEY);
    });
    await expect(approveByCallback(unpaired, job(), authorization())).rejects.toMatchObject({
      code: 'ERR_COSIGNER_NOT_FOUND',
    });
  });

  it('no handler configured: approved; cloud mode: not asked at all', async () => {
    await expect(
      approveByCallback(context('api', paired), job(), authorization()),
    ).resolves.toBeUndefined();
    await expect(
      approveByCallback(context('cloud'), job(), authorization()),
    ).resolves.toBeUndefined();
  });

  it('a session that would expire before an answer is not asked', async () => {
    const ctx = context('api', (repo) => {
      paired(repo);
      // Nothing listens there: an ask would fail differently.
      repo.setCallbackHandler(API_KEY, {
        mode: 'jwt',
        url: 'http://127.0.0.1:9/hook',
        publicKey: 'x',
      });
    });
    const soon = Date.now() + 10_000;
    await expect(
      approveByCallback(ctx, job({ leaseExpiresAt: soon }), authorization()),
    ).rejects.toMatchObject({ subStatus: 'CALLBACK_SESSION_DEADLINE' });
    await expect(
      approveByCallback(ctx, job(), authorization({ expiresAt: soon })),
    ).rejects.toMatchObject({ subStatus: 'CALLBACK_SESSION_DEADLINE' });
  });

  it('with no handler a short lease does not matter: nobody is asked, nothing waits', async () => {
    const soon = Date.now() + 10_000;
    await expect(
      approveByCallback(context('api', paired), job({ leaseExpiresAt: soon }), authorization()),
    ).resolves.toBeUndefined();
  });
});
