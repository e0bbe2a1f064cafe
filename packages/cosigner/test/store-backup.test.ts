// Backup and restore: one file carrying the encrypted database and the wrapped key; restore needs
// the same KMS key, refuses a non-empty target, never brings back an available presignature, a
// live DKLs23 OT setup, or a STARTED signing record (review M3), and keeps the share sets' pinned
// parties (pool review M2).
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { exportDkls23KeyShare, importDkls23KeyShare } from '@countersign/mpc';
import { afterAll, describe, expect, it } from 'vitest';

import { openLocalKms } from '../src/kms/local-kms.js';
import { backupStore } from '../src/store/backup-store.js';
import { initStore, openStore } from '../src/store/cosigner-store.js';
import { restoreStore } from '../src/store/restore-store.js';
import {
  cleanupTempDirs,
  expectCosignerError,
  pattern,
  snapshotDir,
  tempDir,
  testLocalKms,
  TEST_PASSPHRASE,
} from './store-helpers.js';
import { dkls23KeyShares, setupsDestroyed } from './dkls23-fixtures.js';

afterAll(cleanupTempDirs);

/** One real DKLs23 share (party 1 of a 3-of-3 DKG), made once for the file. */
let ecdsaShare: Uint8Array | undefined;
function realEcdsaShare(): Uint8Array {
  ecdsaShare ??= exportDkls23KeyShare(dkls23KeyShares().get(1)!);
  return ecdsaShare;
}

const MARKER = 'BACKUP-PLAINTEXT-MARKER-94c2';
/** The parties that hold ss-ecdsa, pinned when it was stored. */
const PARTIES = [1, 2, 3].map((index) => ({
  index,
  identityKey: pattern(32, index),
  agreementKey: pattern(32, 100 + index),
}));

async function populatedStoreWithBackup() {
  const dir = await tempDir();
  const kms = await testLocalKms(dir);
  const storeDir = join(dir, 'store');
  const store = await initStore({ dir: storeDir, kms });
  store.pairedApiKeys.addPairedApiKey({
    apiKeyId: 'ak-1',
    cosignerId: 'cs-1',
    platformUrl: 'https://p.example',
    refreshToken: 'rt-1',
  });
  store.shareSets.putShareSet({
    id: 'ss-ecdsa',
    apiKeyId: 'ak-1',
    algorithm: 'ECDSA_SECP256K1',
    share: realEcdsaShare(),
    parties: PARTIES,
  });
  store.shareSets.putShareSet({
    id: 'ss-eddsa',
    apiKeyId: 'ak-1',
    algorithm: 'EDDSA_ED25519',
    share: Buffer.from(`${MARKER}-eddsa`),
  });
  // Message 0 was being signed at backup time, message 1 was already released.
  const claim = { transactionId: 'tx-1', shareSetId: 'ss-eddsa', sessionId: 'sess-a' };
  store.signingRecords.claim({ ...claim, messageIndex: 0 });
  store.signingRecords.claim({ ...claim, messageIndex: 1 });
  store.signingRecords.markShareSent({ ...claim, messageIndex: 1 });
  store.presignatures.addPresignatures(
    'ss-ecdsa',
    Array.from({ length: 5 }, (_, i) => ({ id: `p-${i}`, presignature: pattern(32, i) })),
  );
  store.presignatures.takePresignature('ss-ecdsa'); // p-0 spent before the backup
  store.protocolStates.saveProtocolState({ sessionId: 'sess-1', state: pattern(16) });
  store.secrets.putSecret('identity-ed25519', pattern(32, 3));
  const file = join(dir, 'cosigner.backup');
  const result = await backupStore(store, file);
  // Spent after the backup: the restored store must not offer it again.
  store.presignatures.takePresignature('ss-ecdsa'); // p-1
  return { dir, kms, storeDir, store, file, result };
}

describe('backup and restore', () => {
  it('moves a store to a new directory: shares readable, available presignatures and sessions gone', async () => {
    const { dir, file, result, store } = await populatedStoreWithBackup();
    expect(result.storeId).toBe(store.storeId);
    const bytes = await readFile(file);
    expect(bytes.includes(MARKER)).toBe(false);
    expect(bytes.includes('SQLite format 3')).toBe(false);
    expect(bytes.includes('rt-1')).toBe(false);

    // The new machine has the key file and the passphrase, nothing else.
    const kms = await openLocalKms({ keyFile: join(dir, 'kms.key'), passphrase: TEST_PASSPHRASE });
    const target = join(dir, 'new-machine', 'store');
    const restored = await restoreStore(file, { dir: target, kms });
    expect(restored).toMatchObject({
      storeId: store.storeId,
      discardedPresignatures: 4,
      discardedProtocolStates: 1,
      signingRecordsClosed: 1,
      dkls23ShareSetsNeedingRefresh: 1,
    });

    const reopened = await openStore({ dir: target, kms });
    expect(reopened.storeId).toBe(store.storeId);
    // The ECDSA share is the same key share with every OT setup destroyed, under a new version.
    const ecdsa = reopened.shareSets.readShare('ss-ecdsa');
    expect(ecdsa.record.version).toBe(2);
    const restoredShare = importDkls23KeyShare(ecdsa.share);
    const original = importDkls23KeyShare(realEcdsaShare());
    expect(restoredShare.publicKey).toEqual(original.publicKey);
    expect(setupsDestroyed(original)).toEqual({ 2: false, 3: false });
    expect(setupsDestroyed(restoredShare)).toEqual({ 2: true, 3: true });
    // Rewritten, the share set still holds its pin; the one stored without parties has none.
    expect(reopened.shareSets.pinnedParties('ss-ecdsa')).toEqual(PARTIES);
    expect(reopened.shareSets.pinnedParties('ss-eddsa')).toBeUndefined();
    expect(Buffer.from(reopened.shareSets.readShare('ss-eddsa').share).toString()).toBe(
      `${MARKER}-eddsa`,
    );
    // Neither message can be signed again in a fresh session.
    for (const messageIndex of [0, 1])
      expect(
        reopened.signingRecords.claim({
          transactionId: 'tx-1',
          messageIndex,
          shareSetId: 'ss-eddsa',
          sessionId: 'sess-b',
        }),
      ).toEqual({
        kind: 'refused',
        reason: 'a signature share for this message was already released',
        shareReleased: true,
      });
    expect(reopened.pairedApiKeys.readRefreshToken('ak-1')).toBe('rt-1');
    expect(reopened.secrets.getSecret('identity-ed25519')).toEqual(pattern(32, 3));
    expect(reopened.presignatures.countAvailablePresignatures('ss-ecdsa')).toBe(0);
    await expect(
      Promise.resolve().then(() => reopened.presignatures.takePresignature('ss-ecdsa')),
    ).rejects.toMatchObject({
      code: 'ERR_COSIGNER_NO_PRESIGNATURE',
    });
    // Spent markers are kept, and the discarded ones are spent too: none of these ids can come back.
    for (let i = 0; i < 5; i++)
      expect(reopened.presignatures.getPresignatureState(`p-${i}`)).toBe('SPENT');
    expect(reopened.protocolStates.listProtocolSessions()).toEqual([]);
    expect(reopened.getMeta('restored_at')).toMatch(/^\d{4}-/);
    expect(Date.parse(reopened.getMeta('restored_from_backup_at')!)).toBeLessThanOrEqual(
      Date.parse(reopened.getMeta('restored_at')!),
    );
    // The daemon tells the platform once that this pool is gone (cosigner-daemon.ts); only a
    // restore sets the mark.
    expect(reopened.getMeta('pool_discarded_at')).toBe(reopened.getMeta('restored_at'));
    expect(() => reopened.setMeta('pool_discarded_at', 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_COSIGNER_INVALID_ARGUMENT' }),
    );
    expect(reopened.integrityCheck()).toEqual([]);
    reopened.close();
    store.close();
  });

  it('requires the same KMS key; a wrong one leaves nothing behind', async () => {
    const { dir, file, store } = await populatedStoreWithBackup();
    store.close();
    const otherKms = await testLocalKms(await tempDir());
    const target = join(dir, 'target');
    await expectCosignerError(
      restoreStore(file, { dir: target, kms: otherKms }),
      'ERR_COSIGNER_KMS_KEY_MISMATCH',
    );
    const wrongPass = await openLocalKms({ keyFile: join(dir, 'kms.key'), passphrase: 'wrong' });
    await expectCosignerError(
      restoreStore(file, { dir: target, kms: wrongPass }),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    expect((await readdir(dir)).filter((n) => n.includes('target'))).toEqual([]);
  });

  it('refuses a non-empty target directory and leaves it untouched; an empty one is fine', async () => {
    const { dir, kms, file, store } = await populatedStoreWithBackup();
    store.close();
    const busy = join(dir, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'keep.txt'), 'mine');
    const before = await snapshotDir(busy);
    await expectCosignerError(
      restoreStore(file, { dir: busy, kms }),
      'ERR_COSIGNER_RESTORE_TARGET_NOT_EMPTY',
    );
    expect(await snapshotDir(busy)).toEqual(before);
    // Restoring over the live store is refused the same way.
    await expectCosignerError(
      restoreStore(file, { dir: join(dir, 'store'), kms }),
      'ERR_COSIGNER_RESTORE_TARGET_NOT_EMPTY',
    );
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await restoreStore(file, { dir: empty, kms });
    expect((await readdir(empty)).sort()).toEqual(['cosigner-store.json', 'cosigner.db']);
  });

  it('rejects truncated, altered or foreign backup files', async () => {
    const { dir, kms, file, store } = await populatedStoreWithBackup();
    store.close();
    const bytes = await readFile(file);
    const cases: [string, Uint8Array][] = [
      ['truncated', bytes.subarray(0, bytes.length - 100)],
      [
        'bit flip',
        Uint8Array.from(bytes, (b, i) => (i === Math.floor(bytes.length / 2) ? b ^ 1 : b)),
      ],
      [
        'foreign',
        Buffer.from(
          'PK\u0003\u0004 not a backup at all, but long enough to parse.................',
        ),
      ],
    ];
    for (const [name, content] of cases) {
      const bad = join(dir, `${name}.backup`);
      await writeFile(bad, content);
      await expectCosignerError(
        restoreStore(bad, { dir: join(dir, `t-${name}`), kms }),
        'ERR_COSIGNER_BACKUP_INVALID',
      );
    }
  });

  it('never overwrites an existing backup file', async () => {
    const { file, store } = await populatedStoreWithBackup();
    const before = await readFile(file);
    await expectCosignerError(backupStore(store, file), 'ERR_COSIGNER_INVALID_ARGUMENT');
    expect(await readFile(file)).toEqual(before);
    store.close();
  });
});
