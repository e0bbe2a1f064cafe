// Raw-signing review M2: a DKLs23 ban from a failed KOS check reaches the stored share even when
// the share set was rewritten since the job read it (no compare-and-swap on a stale copy), and a
// ban that cannot be stored stops presigning for that share set, durably when the store still
// takes a small write.
import { join } from 'node:path';

import { exportDkls23KeyShare, importDkls23KeyShare } from '@countersign/mpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assertPresignAllowed, persistDkls23Ban } from '../src/daemon/dkls23-ban.js';
import { isCosignerError } from '../src/errors.js';
import { initStore, openStore, type CosignerStore } from '../src/store/cosigner-store.js';
import { dkls23KeyShares, kosFailureAtParty1, setupsDestroyed } from './dkls23-fixtures.js';
import { cleanupTempDirs, tempDir, testLocalKms } from './store-helpers.js';

afterAll(cleanupTempDirs);

let stored: Uint8Array;
let failure: Awaited<ReturnType<typeof kosFailureAtParty1>>;

beforeAll(async () => {
  const shares = dkls23KeyShares();
  // Exported before the failing session runs: the stored copy has every setup live.
  stored = exportDkls23KeyShare(shares.get(1)!);
  failure = await kosFailureAtParty1(shares);
}, 120_000);

async function storeWithShareSet(): Promise<CosignerStore> {
  const dir = await tempDir();
  const store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
  store.shareSets.putShareSet({
    id: 'ss-ecdsa',
    apiKeyId: 'ak-1',
    algorithm: 'ECDSA_SECP256K1',
    share: stored,
  });
  return store;
}

function storedFlags(store: CosignerStore): Record<number, boolean> {
  const { share } = store.shareSets.readShare('ss-ecdsa');
  return setupsDestroyed(importDkls23KeyShare(share));
}

describe('persistDkls23Ban (review M2)', () => {
  it('the failure is a real KOS ban of party 2', () => {
    expect(failure).toMatchObject({ code: 'ERR_MPC_OT_CHECK', check: 'kos', banned: 2 });
  });

  it('a share set rewritten after the job read it keeps the ban (no lost update)', async () => {
    const store = await storeWithShareSet();
    try {
      const readByJob = store.shareSets.readShare('ss-ecdsa').record;
      // Meanwhile another writer (a refresh, another daemon on the store) moves the version on.
      store.shareSets.replaceShare('ss-ecdsa', {
        expectedVersion: readByJob.version,
        version: readByJob.version + 1,
        share: stored,
      });
      expect(storedFlags(store)).toEqual({ 2: false, 3: false });

      persistDkls23Ban(store, 'ss-ecdsa', failure);

      expect(storedFlags(store)).toEqual({ 2: true, 3: false });
      expect(store.shareSets.getShareSet('ss-ecdsa')?.version).toBe(readByJob.version + 2);
      // Applying it again (a second daemon's report of the same failure) changes nothing.
      persistDkls23Ban(store, 'ss-ecdsa', failure);
      expect(storedFlags(store)).toEqual({ 2: true, 3: false });
      expect(() => assertPresignAllowed(store, 'ss-ecdsa')).not.toThrow();
    } finally {
      store.close();
    }
  });

  it('a ban that cannot be written stops presigning for that share set, with a clear error', async () => {
    const store = await storeWithShareSet();
    const other = await storeWithShareSet();
    try {
      // Every write of this connection now fails (as a full disk would), reads still work.
      store.connection().pragma('query_only = ON');
      let thrown: unknown;
      try {
        persistDkls23Ban(store, 'ss-ecdsa', failure);
      } catch (e) {
        thrown = e;
      }
      expect(isCosignerError(thrown, 'ERR_COSIGNER_PRESIGN_BLOCKED')).toBe(true);
      expect((thrown as Error).message).toMatch(/ss-ecdsa.*could not be stored/);
      expect(storedFlags(store)).toEqual({ 2: false, 3: false });

      store.connection().pragma('query_only = OFF');
      // Still blocked once the store works again: the ban was never stored.
      expect(() => assertPresignAllowed(store, 'ss-ecdsa')).toThrow(
        /presigning is stopped for this share set/,
      );
      // Another party's store with the same share set id is not blocked.
      expect(() => assertPresignAllowed(other, 'ss-ecdsa')).not.toThrow();
    } finally {
      store.close();
      other.close();
    }
  });

  it('when only the share write fails, the block is durable: a reopened store still refuses', async () => {
    const dir = await tempDir();
    const kms = await testLocalKms(dir);
    const storeDir = join(dir, 'store');
    const store = await initStore({ dir: storeDir, kms });
    store.shareSets.putShareSet({
      id: 'ss-ecdsa',
      apiKeyId: 'ak-1',
      algorithm: 'ECDSA_SECP256K1',
      share: stored,
    });
    // The share row cannot be rewritten (as a damaged page or a full disk would make that write
    // fail), while a small write elsewhere still goes through.
    store.connection().exec(
      `CREATE TEMP TRIGGER refuse_share_write BEFORE UPDATE ON main.share_sets
         BEGIN SELECT RAISE(ABORT, 'share write refused'); END`,
    );
    expect(() => persistDkls23Ban(store, 'ss-ecdsa', failure)).toThrow(
      /presigning is stopped for this share set/,
    );
    store.close();

    // Another process (here: a new store object) opening the store sees the block.
    const reopened = await openStore({ dir: storeDir, kms });
    try {
      expect(storedFlags(reopened)).toEqual({ 2: false, 3: false });
      expect(() => assertPresignAllowed(reopened, 'ss-ecdsa')).toThrow(
        /ss-ecdsa: an earlier ban could not be stored; the share set needs a refresh/,
      );
    } finally {
      reopened.close();
    }
  });
});
