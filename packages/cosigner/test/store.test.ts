// The encrypted store: whole-file encryption, sealed blobs bound to their rows, typed errors,
// migrations, the parties pinned with a share set, and consistency when a write fails.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { CosignerError } from '../src/errors.js';
import type { LocalKmsProvider } from '../src/kms/local-kms.js';
import type { CosignerStore } from '../src/store/cosigner-store.js';
import { initStore, openStore } from '../src/store/cosigner-store.js';
import { SCHEMA_VERSION } from '../src/store/migrations.js';
import type { ShareSetParty } from '../src/store/share-set-repository.js';
import { sqliteDatabase } from '../src/store/sqlite-driver.js';
import { DATABASE_FILE, HEADER_FILE } from '../src/store/store-files.js';
import {
  cleanupTempDirs,
  expectCosignerError,
  expectCosignerErrorSync,
  pattern,
  snapshotDir,
  tempDir,
  testLocalKms,
} from './store-helpers.js';

afterAll(cleanupTempDirs);

const MARKER = 'PLAINTEXT-MARKER-6b1f0d';

async function freshStore(): Promise<{
  dir: string;
  storeDir: string;
  kms: LocalKmsProvider;
  store: CosignerStore;
}> {
  const dir = await tempDir();
  const kms = await testLocalKms(dir);
  const storeDir = join(dir, 'store');
  const store = await initStore({ dir: storeDir, kms });
  return { dir, storeDir, kms, store };
}

describe('store lifecycle', () => {
  it('initialises, reopens, and refuses to initialise over an existing store', async () => {
    const { dir, storeDir, kms, store } = await freshStore();
    expect(store.storeId).toMatch(/^[0-9a-f]{32}$/);
    store.setMeta('cosigner_name', 'east-1');
    store.close();
    const before = await snapshotDir(dir);
    await expectCosignerError(initStore({ dir: storeDir, kms }), 'ERR_COSIGNER_STORE_EXISTS');
    expect(await snapshotDir(dir)).toEqual(before);
    const reopened = await openStore({ dir: storeDir, kms });
    expect(reopened.storeId).toBe(store.storeId);
    expect(reopened.getMeta('cosigner_name')).toBe('east-1');
    expect(reopened.integrityCheck()).toEqual([]);
    reopened.close();
    expectCosignerErrorSync(() => reopened.getMeta('x'), 'ERR_COSIGNER_STORE_CLOSED');
  });

  it('reports a missing store and a foreign provider with typed errors', async () => {
    const { dir, storeDir, store } = await freshStore();
    store.close();
    const kms = await testLocalKms(await tempDir());
    await expectCosignerError(
      openStore({ dir: join(dir, 'nowhere'), kms }),
      'ERR_COSIGNER_STORE_NOT_FOUND',
    );
    await expectCosignerError(openStore({ dir: storeDir, kms }), 'ERR_COSIGNER_KMS_KEY_MISMATCH');
    const fake = {
      id: 'aws-kms',
      describe: () => 'fake',
      wrapKey: () => Promise.reject(new Error('x')),
      unwrapKey: () => Promise.reject(new Error('x')),
    };
    await expectCosignerError(
      openStore({ dir: storeDir, kms: fake }),
      'ERR_COSIGNER_KMS_PROVIDER_MISMATCH',
    );
  });

  it('a KMS that wraps but cannot unwrap fails initialisation and leaves no store behind', async () => {
    const dir = await tempDir();
    const storeDir = join(dir, 'store');
    const good = await testLocalKms(dir);
    const encryptOnly = {
      id: 'local',
      describe: () => 'encrypt-only policy',
      wrapKey: (k: Uint8Array) => good.wrapKey(k),
      unwrapKey: () =>
        Promise.reject(new CosignerError('ERR_COSIGNER_KMS_AUTH', { detail: 'decrypt denied' })),
    };
    await expectCosignerError(
      initStore({ dir: storeDir, kms: encryptOnly }),
      'ERR_COSIGNER_KMS_AUTH',
    );
    expect(await readdir(storeDir)).toEqual([]);
    const store = await initStore({ dir: storeDir, kms: good });
    store.close();
  });

  it('keeps the database unreadable without the key: no SQLite header, no plaintext', async () => {
    const { storeDir, kms, store } = await freshStore();
    store.setMeta('note', MARKER);
    store.pairedApiKeys.addPairedApiKey({
      apiKeyId: 'ak-1',
      cosignerId: 'cs-1',
      platformUrl: 'https://p.example',
      refreshToken: `${MARKER}-token`,
    });
    store.shareSets.putShareSet({
      id: 'ss-1',
      apiKeyId: 'ak-1',
      algorithm: 'ECDSA_SECP256K1',
      share: Buffer.from(`${MARKER}-share`),
    });
    // While open, the WAL holds the latest pages: it must be encrypted too.
    const wal = await readFile(join(storeDir, `${DATABASE_FILE}-wal`));
    expect(wal.length).toBeGreaterThan(0);
    expect(wal.includes(MARKER)).toBe(false);
    store.close();
    const bytes = await readFile(join(storeDir, DATABASE_FILE));
    expect(bytes.subarray(0, 16).toString('latin1')).not.toBe('SQLite format 3\0');
    expect(bytes.includes(MARKER)).toBe(false);
    expect(bytes.includes('share_sets')).toBe(false);
    const header = await readFile(join(storeDir, HEADER_FILE), 'utf8');
    expect(header).not.toContain(MARKER);
    // A plain SQLite connection (no key) cannot read it.
    const plain = new (sqliteDatabase())(join(storeDir, DATABASE_FILE), {
      fileMustExist: true,
      readonly: true,
    });
    expect(() => plain.prepare('SELECT * FROM sqlite_master').all()).toThrow(/not a database/);
    plain.close();
    const reopened = await openStore({ dir: storeDir, kms });
    expect(Buffer.from(reopened.shareSets.readShare('ss-1').share).toString()).toBe(
      `${MARKER}-share`,
    );
    expect(reopened.pairedApiKeys.readRefreshToken('ak-1')).toBe(`${MARKER}-token`);
    reopened.close();
  });

  it('refuses a header that does not belong to the database', async () => {
    const a = await freshStore();
    a.store.close();
    const headerPath = join(a.storeDir, HEADER_FILE);
    const header = JSON.parse(await readFile(headerPath, 'utf8'));
    header.storeId = '0'.repeat(32);
    await writeFile(headerPath, JSON.stringify(header));
    await expectCosignerError(
      openStore({ dir: a.storeDir, kms: a.kms }),
      'ERR_COSIGNER_STORE_CORRUPT',
    );
    header.extra = true;
    await writeFile(headerPath, JSON.stringify(header));
    await expectCosignerError(
      openStore({ dir: a.storeDir, kms: a.kms }),
      'ERR_COSIGNER_STORE_HEADER_INVALID',
    );
  });

  it('refuses a database from a newer release', async () => {
    const { storeDir, kms, store } = await freshStore();
    store.connection().pragma('user_version = 99');
    store.close();
    await expectCosignerError(openStore({ dir: storeDir, kms }), 'ERR_COSIGNER_STORE_VERSION');
  });
});

describe('sealed blobs', () => {
  it('round-trips shares, refreshes with compare-and-swap, destroys', async () => {
    const { store } = await freshStore();
    const rec = store.shareSets.putShareSet({
      id: 'ss-1',
      apiKeyId: 'ak-1',
      algorithm: 'ECDSA_SECP256K1',
      share: pattern(100),
    });
    expect(rec).toMatchObject({ id: 'ss-1', version: 1, destroyedAt: null });
    expectCosignerErrorSync(
      () =>
        store.shareSets.putShareSet({
          id: 'ss-1',
          apiKeyId: 'ak-1',
          algorithm: 'ECDSA_SECP256K1',
          share: pattern(1),
        }),
      'ERR_COSIGNER_CONFLICT',
    );
    store.presignatures.addPresignatures('ss-1', [{ id: 'p-1', presignature: pattern(10) }]);
    store.shareSets.replaceShare('ss-1', {
      expectedVersion: 1,
      version: 2,
      share: pattern(100, 1),
    });
    expect(store.shareSets.readShare('ss-1')).toMatchObject({
      record: { version: 2 },
      share: pattern(100, 1),
    });
    // Presignatures made with the old share are gone.
    expect(store.presignatures.getPresignatureState('p-1')).toBe('SPENT');
    expectCosignerErrorSync(
      () =>
        store.shareSets.replaceShare('ss-1', { expectedVersion: 1, version: 3, share: pattern(5) }),
      'ERR_COSIGNER_CONFLICT',
    );
    store.shareSets.destroyShareSet('ss-1');
    expectCosignerErrorSync(() => store.shareSets.readShare('ss-1'), 'ERR_COSIGNER_NOT_FOUND');
    expect(store.shareSets.listShareSets()).toEqual([]);
    expect(store.shareSets.listShareSets({ includeDestroyed: true })).toHaveLength(1);
    store.close();
  });

  it('detects a share, presignature, session state or secret moved to another row', async () => {
    const { store } = await freshStore();
    const db = store.connection();
    store.shareSets.putShareSet({
      id: 'ss-a',
      apiKeyId: 'ak-1',
      algorithm: 'ECDSA_SECP256K1',
      share: pattern(40, 1),
    });
    store.shareSets.putShareSet({
      id: 'ss-b',
      apiKeyId: 'ak-1',
      algorithm: 'ECDSA_SECP256K1',
      share: pattern(40, 2),
    });
    db.prepare(
      `UPDATE share_sets SET sealed_blob = (SELECT sealed_blob FROM share_sets WHERE id = 'ss-b') WHERE id = 'ss-a'`,
    ).run();
    expectCosignerErrorSync(
      () => store.shareSets.readShare('ss-a'),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    expect(store.shareSets.readShare('ss-b').share).toEqual(pattern(40, 2));

    // Same id, other algorithm: the AAD binds the algorithm too.
    store.shareSets.putShareSet({
      id: 'ss-c',
      apiKeyId: 'ak-1',
      algorithm: 'ECDSA_SECP256K1',
      share: pattern(40, 3),
    });
    db.prepare(`UPDATE share_sets SET algorithm = 'EDDSA_ED25519' WHERE id = 'ss-c'`).run();
    expectCosignerErrorSync(
      () => store.shareSets.readShare('ss-c'),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );

    store.presignatures.addPresignatures('ss-b', [
      { id: 'p-1', presignature: pattern(16, 1) },
      { id: 'p-2', presignature: pattern(16, 2) },
    ]);
    db.prepare(
      `UPDATE presignatures SET sealed_blob = (SELECT sealed_blob FROM presignatures WHERE id = 'p-2') WHERE id = 'p-1'`,
    ).run();
    expectCosignerErrorSync(
      () => store.presignatures.takePresignature('ss-b'),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    // The tampered one was spent anyway (spent before it is opened); the next is intact.
    expect(store.presignatures.getPresignatureState('p-1')).toBe('SPENT');
    expect(store.presignatures.takePresignature('ss-b').presignature).toEqual(pattern(16, 2));

    store.protocolStates.saveProtocolState({ sessionId: 's-1', state: pattern(8, 1) });
    store.protocolStates.saveProtocolState({ sessionId: 's-2', state: pattern(8, 2) });
    db.prepare(
      `UPDATE protocol_state SET sealed_state = (SELECT sealed_state FROM protocol_state WHERE session_id = 's-2') WHERE session_id = 's-1'`,
    ).run();
    expectCosignerErrorSync(
      () => store.protocolStates.loadProtocolState('s-1'),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );

    store.secrets.putSecret('identity-ed25519', pattern(32, 1));
    store.secrets.putSecret('identity-x25519', pattern(32, 2));
    db.prepare(
      `UPDATE sealed_secrets SET sealed_value = (SELECT sealed_value FROM sealed_secrets WHERE name = 'identity-x25519') WHERE name = 'identity-ed25519'`,
    ).run();
    expectCosignerErrorSync(
      () => store.secrets.getSecret('identity-ed25519'),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );

    // A flipped bit in a sealed blob.
    const sealed = (
      db.prepare(`SELECT sealed_blob FROM share_sets WHERE id = 'ss-b'`).get() as {
        sealed_blob: Buffer;
      }
    ).sealed_blob;
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    db.prepare(`UPDATE share_sets SET sealed_blob = ? WHERE id = 'ss-b'`).run(sealed);
    expectCosignerErrorSync(
      () => store.shareSets.readShare('ss-b'),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    store.close();
  });

  it('keeps pairings, refresh tokens, session states and secrets', async () => {
    const { store } = await freshStore();
    store.pairedApiKeys.addPairedApiKey({
      apiKeyId: 'ak-1',
      cosignerId: 'cs-1',
      platformUrl: 'https://p.example',
      callbackHandler: { url: 'https://cb.example', publicKey: 'pem' },
    });
    expect(store.pairedApiKeys.readRefreshToken('ak-1')).toBeUndefined();
    store.pairedApiKeys.setRefreshToken('ak-1', 'rt-2');
    expect(store.pairedApiKeys.readRefreshToken('ak-1')).toBe('rt-2');
    expect(store.pairedApiKeys.getPairedApiKey('ak-1')).toMatchObject({
      hasRefreshToken: true,
      callbackHandler: { url: 'https://cb.example' },
    });
    store.pairedApiKeys.markUnpaired('ak-1');
    expect(store.pairedApiKeys.readRefreshToken('ak-1')).toBeUndefined();
    expect(store.pairedApiKeys.listPairedApiKeys()).toEqual([]);
    expect(store.pairedApiKeys.listPairedApiKeys({ includeUnpaired: true })).toHaveLength(1);

    store.protocolStates.saveProtocolState({ sessionId: 's-1', jobId: 'job-1', state: pattern(8) });
    store.protocolStates.saveProtocolState({ sessionId: 's-1', jobId: 'job-1', state: pattern(9) });
    expect(store.protocolStates.loadProtocolState('s-1')).toMatchObject({
      jobId: 'job-1',
      state: pattern(9),
    });
    expect(store.protocolStates.listProtocolSessions().map((s) => s.sessionId)).toEqual(['s-1']);
    expect(store.protocolStates.deleteProtocolState('s-1')).toBe(true);
    expect(store.protocolStates.loadProtocolState('s-1')).toBeUndefined();

    store.secrets.putSecret('identity-ed25519', pattern(32));
    expectCosignerErrorSync(
      () => store.secrets.putSecret('identity-ed25519', pattern(32, 1)),
      'ERR_COSIGNER_CONFLICT',
    );
    store.secrets.putSecret('identity-ed25519', pattern(32, 1), { replace: true });
    expect(store.secrets.getSecret('identity-ed25519')).toEqual(pattern(32, 1));
    store.close();
  });

  it('rejects bad identifiers and empty blobs at the boundary', async () => {
    const { store } = await freshStore();
    expectCosignerErrorSync(
      () =>
        store.shareSets.putShareSet({
          id: "x'; DROP TABLE share_sets; --",
          apiKeyId: 'ak',
          algorithm: 'ECDSA_SECP256K1',
          share: pattern(1),
        }),
      'ERR_COSIGNER_INVALID_ARGUMENT',
    );
    expectCosignerErrorSync(
      () =>
        store.shareSets.putShareSet({
          id: 'ss',
          apiKeyId: 'ak',
          algorithm: 'RSA' as 'ECDSA_SECP256K1',
          share: pattern(1),
        }),
      'ERR_COSIGNER_INVALID_ARGUMENT',
    );
    expectCosignerErrorSync(
      () =>
        store.shareSets.putShareSet({
          id: 'ss',
          apiKeyId: 'ak',
          algorithm: 'ECDSA_SECP256K1',
          share: new Uint8Array(0),
        }),
      'ERR_COSIGNER_INVALID_ARGUMENT',
    );
    expectCosignerErrorSync(() => store.setMeta('store_id', 'x'), 'ERR_COSIGNER_INVALID_ARGUMENT');
    store.close();
  });
});

describe('pinned parties of a share set (pool review M2)', () => {
  /** Given out of order; kept and returned by ascending index. */
  const parties: ShareSetParty[] = [3, 1, 2].map((index) => ({
    index,
    identityKey: pattern(32, index),
    agreementKey: pattern(32, 50 + index),
  }));
  const byIndex = [...parties].sort((a, b) => a.index - b.index);
  const shareSet = { apiKeyId: 'ak-1', algorithm: 'EDDSA_ED25519', share: pattern(64) } as const;

  it('keeps the parties a share set was stored with, through a refresh and its destruction', async () => {
    const { store } = await freshStore();
    store.shareSets.putShareSet({ ...shareSet, id: 'ss-1', parties });
    store.shareSets.putShareSet({ ...shareSet, id: 'ss-2' });
    expect(store.shareSets.pinnedParties('ss-1')).toEqual(byIndex);
    expect(store.shareSets.pinnedParties('ss-2')).toBeUndefined();
    expect(store.shareSets.pinnedParties('ss-never-stored')).toBeUndefined();
    store.shareSets.replaceShare('ss-1', { expectedVersion: 1, version: 2, share: pattern(64, 2) });
    store.shareSets.destroyShareSet('ss-1');
    // What is returned is a copy: changing it changes nothing stored.
    store.shareSets.pinnedParties('ss-1')![0]!.identityKey.fill(0);
    expect(store.shareSets.pinnedParties('ss-1')).toEqual(byIndex);
    store.close();
  });

  it('refuses parties that no roster could seat, and stores nothing of that share set', async () => {
    const { store } = await freshStore();
    const [one, two] = byIndex as [ShareSetParty, ShareSetParty];
    const cases: unknown[] = [
      [],
      [{ ...one, index: 0 }],
      [{ ...one, index: 65_536 }],
      [{ ...one, index: 1.5 }],
      [one, { ...two, index: 1 }],
      [{ ...one, identityKey: pattern(31) }],
      [{ ...one, agreementKey: Buffer.from('not a key').toString('hex') }],
      [null],
    ];
    for (const bad of cases)
      expectCosignerErrorSync(
        () =>
          store.shareSets.putShareSet({
            ...shareSet,
            id: 'ss-1',
            parties: bad as ShareSetParty[],
          }),
        'ERR_COSIGNER_INVALID_ARGUMENT',
      );
    expect(store.shareSets.getShareSet('ss-1')).toBeUndefined();
    expect(store.shareSets.pinnedParties('ss-1')).toBeUndefined();
    store.close();
  });

  it('migrates a store of schema 3: its share sets stay, unpinned; new ones are pinned', async () => {
    const { storeDir, kms, store } = await freshStore();
    store.shareSets.putShareSet({ ...shareSet, id: 'ss-old', share: pattern(64, 7) });
    // Back to what the previous release wrote: no table of parties, user_version 3.
    store.connection().exec('DROP TABLE share_set_parties');
    store.connection().pragma('user_version = 3');
    store.close();

    const reopened = await openStore({ dir: storeDir, kms });
    expect(reopened.connection().pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(reopened.shareSets.readShare('ss-old').share).toEqual(pattern(64, 7));
    expect(reopened.shareSets.pinnedParties('ss-old')).toBeUndefined();
    reopened.shareSets.putShareSet({ ...shareSet, id: 'ss-new', parties });
    expect(reopened.shareSets.pinnedParties('ss-new')).toEqual(byIndex);
    expect(reopened.integrityCheck()).toEqual([]);
    reopened.close();
  });
});

describe('presignature pool', () => {
  it('takes each presignature once, oldest first, and marks it spent before returning it', async () => {
    const { storeDir, kms, store } = await freshStore();
    store.shareSets.putShareSet({
      id: 'ss-1',
      apiKeyId: 'ak-1',
      algorithm: 'ECDSA_SECP256K1',
      share: pattern(32),
    });
    store.presignatures.addPresignatures('ss-1', [
      { id: 'p-1', presignature: pattern(16, 1) },
      { id: 'p-2', presignature: pattern(16, 2) },
    ]);
    expect(store.presignatures.countAvailablePresignatures('ss-1')).toBe(2);
    const first = store.presignatures.takePresignature('ss-1');
    expect(first).toMatchObject({ id: 'p-1', shareSetId: 'ss-1', presignature: pattern(16, 1) });
    // A second connection sees it spent at once: the spend was committed before the return.
    const other = await openStore({ dir: storeDir, kms });
    expect(other.presignatures.getPresignatureState('p-1')).toBe('SPENT');
    expect(other.presignatures.takePresignature('ss-1').id).toBe('p-2');
    expectCosignerErrorSync(
      () => store.presignatures.takePresignature('ss-1'),
      'ERR_COSIGNER_NO_PRESIGNATURE',
    );
    // Spent ids are markers: they can never be added again.
    expectCosignerErrorSync(
      () =>
        store.presignatures.addPresignatures('ss-1', [{ id: 'p-1', presignature: pattern(16) }]),
      'ERR_COSIGNER_CONFLICT',
    );
    // The spent blob is erased from the row.
    const row = store
      .connection()
      .prepare(`SELECT sealed_blob FROM presignatures WHERE id = 'p-1'`)
      .get() as { sealed_blob: unknown };
    expect(row.sealed_blob).toBeNull();
    expectCosignerErrorSync(
      () => store.presignatures.takePresignature('ss-unknown'),
      'ERR_COSIGNER_NOT_FOUND',
    );
    other.close();
    store.close();
  });

  it('takes a named presignature only while it is available; keeps the newest when trimmed', async () => {
    const { store } = await freshStore();
    for (const id of ['ss-1', 'ss-2'])
      store.shareSets.putShareSet({
        id,
        apiKeyId: 'ak-1',
        algorithm: 'ECDSA_SECP256K1',
        share: pattern(32),
      });
    for (let i = 1; i <= 5; i++)
      store.presignatures.addPresignatures('ss-1', [
        { id: `p-${i}`, presignature: pattern(16, i) },
      ]);
    store.presignatures.addPresignatures('ss-2', [{ id: 'q-1', presignature: pattern(16, 9) }]);
    // Named: that one, not the oldest; never one of another share set; never twice.
    expect(store.presignatures.takePresignature('ss-1', 'p-3').presignature).toEqual(
      pattern(16, 3),
    );
    for (const [set, id] of [
      ['ss-1', 'p-3'],
      ['ss-1', 'q-1'],
      ['ss-1', 'p-unknown'],
    ] as const)
      expectCosignerErrorSync(
        () => store.presignatures.takePresignature(set, id),
        'ERR_COSIGNER_NO_PRESIGNATURE',
      );
    // Trimmed to the newest two available: p-4 and p-5 stay; p-1 and p-2 are spent markers.
    expect(store.presignatures.keepNewestPresignatures('ss-1', 2)).toBe(2);
    expect(store.presignatures.countAvailablePresignatures('ss-1')).toBe(2);
    expect(store.presignatures.getPresignatureState('p-1')).toBe('SPENT');
    expect(store.presignatures.getPresignatureState('p-5')).toBe('AVAILABLE');
    expect(store.presignatures.countAvailablePresignatures('ss-2')).toBe(1);
    expect(store.presignatures.keepNewestPresignatures('ss-1', 2)).toBe(0);
    store.close();
  });

  it('uses WAL with synchronous = FULL', async () => {
    const { store } = await freshStore();
    const db = store.connection();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    store.close();
  });
});

describe('failed writes', () => {
  it('a full store rejects the whole batch with ERR_COSIGNER_STORE_FULL and stays consistent', async () => {
    const { storeDir, kms, store } = await freshStore();
    store.shareSets.putShareSet({
      id: 'ss-1',
      apiKeyId: 'ak-1',
      algorithm: 'ECDSA_SECP256K1',
      share: pattern(32),
    });
    store.presignatures.addPresignatures('ss-1', [{ id: 'p-0', presignature: pattern(100) }]);
    store.close();
    // A size limit far below the batch: the same failure SQLite reports on a full disk (SQLITE_FULL).
    const limited = await openStore({ dir: storeDir, kms, maxSizeBytes: 200 * 1024 });
    const batch = Array.from({ length: 200 }, (_, i) => ({
      id: `p-${i + 1}`,
      presignature: pattern(4096, i),
    }));
    expectCosignerErrorSync(
      () => limited.presignatures.addPresignatures('ss-1', batch),
      'ERR_COSIGNER_STORE_FULL',
    );
    expect(limited.presignatures.countAvailablePresignatures('ss-1')).toBe(1);
    expect(limited.integrityCheck()).toEqual([]);
    // Still writable for what fits.
    limited.presignatures.addPresignatures('ss-1', [{ id: 'p-x', presignature: pattern(100) }]);
    expect(limited.presignatures.takePresignature('ss-1').id).toBe('p-0');
    limited.close();
    const reopened = await openStore({ dir: storeDir, kms });
    expect(reopened.presignatures.countAvailablePresignatures('ss-1')).toBe(1);
    expect(reopened.integrityCheck()).toEqual([]);
    reopened.close();
  });
});
