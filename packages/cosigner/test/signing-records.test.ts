// Signing records and presign claims survive a restart: the store refuses a second signature
// for a message whose share may have left, and a presign sid claimed once is never claimed
// again — reopened from disk, as after a crash.
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openLocalKms } from '../src/kms/local-kms.js';
import { initStore, openStore } from '../src/store/cosigner-store.js';
import { cleanupTempDirs, tempDir, testLocalKms, TEST_PASSPHRASE } from './store-helpers.js';

afterAll(cleanupTempDirs);

const claim = (sessionId: string, messageIndex = 0) => ({
  transactionId: '5f0c6f9e-4b8a-4f55-9a43-1d2f3e4a5b6c',
  messageIndex,
  shareSetId: 'share-set-1',
  sessionId,
});

async function freshStore() {
  const dir = await tempDir();
  const kms = await testLocalKms(dir);
  const store = await initStore({ dir: join(dir, 'store'), kms });
  const reopen = async () => {
    store.close();
    return openStore({
      dir: join(dir, 'store'),
      kms: await openLocalKms({ keyFile: join(dir, 'kms.key'), passphrase: TEST_PASSPHRASE }),
    });
  };
  return { store, reopen };
}

/** A fresh store holding an EdDSA share set with the nonce sets `ids` pooled. */
async function pooledStore(...ids: string[]) {
  const fresh = await freshStore();
  fresh.store.shareSets.putShareSet({
    id: 'share-set-1',
    apiKeyId: 'ak-1',
    algorithm: 'EDDSA_ED25519',
    share: Buffer.from('share'),
  });
  fresh.store.presignatures.addPresignatures(
    'share-set-1',
    ids.map((id) => ({ id, presignature: Buffer.from(`nonce set ${id.slice(-1)}`) })),
  );
  return fresh;
}

describe('signing records', () => {
  it('a fresh session may run until a share left; never after, not even across a restart', async () => {
    const { store, reopen } = await freshStore();
    expect(store.signingRecords.claim(claim('s1'))).toEqual({ kind: 'claimed' });
    // The same session offered again: its nonces are gone.
    expect(store.signingRecords.claim(claim('s1'))).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/cannot resume/),
      shareReleased: false,
    });
    // A fresh session before any share left: allowed (the earlier one provably released none).
    expect(store.signingRecords.claim(claim('s2'))).toEqual({ kind: 'claimed' });
    store.signingRecords.markShareSent(claim('s2'));
    // Only the session holding the claim advances it.
    expect(() => store.signingRecords.markShareSent(claim('s1'))).toThrow(/not STARTED/);

    const reopened = await reopen();
    expect(reopened.signingRecords.state(claim('s2').transactionId, 0)).toBe('SHARE_SENT');
    expect(reopened.signingRecords.claim(claim('s3'))).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/already released/),
      shareReleased: true,
    });
    // The session that released it, offered again after a crash: refused, and the share is out.
    expect(reopened.signingRecords.claim(claim('s2'))).toMatchObject({
      kind: 'refused',
      reason: expect.stringMatching(/cannot resume/),
      shareReleased: true,
    });
    // Another message of the same transaction is its own record.
    expect(reopened.signingRecords.claim(claim('s3', 1))).toEqual({ kind: 'claimed' });
    reopened.close();
  });

  it('a signed message answers its own session from the store, and refuses any other', async () => {
    const { store, reopen } = await freshStore();
    store.signingRecords.claim(claim('s1'));
    store.signingRecords.markShareSent(claim('s1'));
    store.signingRecords.markSigned(claim('s1'), '{"signature":"ab","publicKey":"cd"}');
    const reopened = await reopen();
    expect(reopened.signingRecords.claim(claim('s1'))).toEqual({
      kind: 'signed',
      result: '{"signature":"ab","publicKey":"cd"}',
    });
    expect(reopened.signingRecords.claim(claim('s2')).kind).toBe('refused');
    expect(
      reopened.signingRecords.claim({ ...claim('s1'), shareSetId: 'share-set-2' }),
    ).toMatchObject({ kind: 'refused', reason: expect.stringMatching(/another share set/) });
    reopened.close();
  });

  it('a pooled signing claims before it says ready, resumes that claim after a crash, and spends once', async () => {
    const { store, reopen } = await pooledStore('set-a');
    // A set that is not here: nothing claimed, nothing written.
    expect(store.claimForPool(claim('s1'), 'set-b')).toBe(false);
    expect(store.signingRecords.state(claim('s1').transactionId, 0)).toBeUndefined();
    expect(store.claimForPool(claim('s1'), 'set-a')).toBe(true);
    expect(store.signingRecords.startedIn(claim('s1'))).toBe(true);
    expect(store.signingRecords.startedIn(claim('s2'))).toBe(false);
    // Reopened, as after a kill -9 right after telling the platform: the claim resumes.
    const reopened = await reopen();
    expect(reopened.signingRecords.startedIn(claim('s1'))).toBe(true);
    expect(reopened.claimForPool(claim('s1'), 'set-a')).toBe(true);
    // An inline session's own STARTED claim still cannot resume (its nonces died).
    expect(reopened.signingRecords.claim(claim('s1'))).toMatchObject({ kind: 'refused' });
    const computed: string[] = [];
    const signed = reopened.signFromPool(claim('s1'), 'set-a', (set) => {
      computed.push(Buffer.from(set).toString());
      return '{"signatureShare":"ab"}';
    });
    expect(signed).toEqual({ kind: 'signed', result: '{"signatureShare":"ab"}' });
    expect(computed).toEqual(['nonce set a']);
    expect(reopened.signingRecords.startedIn(claim('s1'))).toBe(false);
    // Spent: the same session answers from its record; another gets nothing.
    expect(reopened.signFromPool(claim('s1'), 'set-a', () => 'unused')).toEqual(signed);
    expect(reopened.claimForPool(claim('s2'), 'set-a')).toBe(false);
    expect(reopened.signFromPool(claim('s2'), 'set-a', () => 'unused')).toMatchObject({
      kind: 'refused',
      shareReleased: true,
    });
    reopened.close();
  });

  it('signing from the pool is all or nothing: a failed step spends nothing and records nothing (pooled review T3)', async () => {
    const { store, reopen } = await pooledStore('set-a', 'set-b');
    const other = { ...claim('s9'), transactionId: '0b7c5d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e' };
    const untouched = (s: typeof store, what: { transactionId: string }) =>
      expect(s.signingRecords.state(what.transactionId, 0)).toBeUndefined();

    // Reading a set's public part opens it without spending it, and zeroes the opened bytes.
    let opened: Uint8Array | undefined;
    const read = (b: Uint8Array) => ((opened = b), b.length);
    expect(store.presignatures.peekPublicPart('share-set-1', 'set-a', read)).toBe(11);
    expect(opened?.every((byte) => byte === 0)).toBe(true);
    expect(store.presignatures.holdsPresignature('share-set-1', 'set-a')).toBe(true);

    // The computation throws (a set made for other signers, say): the claim, the spend and the
    // erasure roll back with it.
    expect(() =>
      store.signFromPool(claim('s1'), 'set-a', () => {
        throw new Error('made for other signers');
      }),
    ).toThrow(/made for other signers/);
    expect(store.presignatures.holdsPresignature('share-set-1', 'set-a')).toBe(true);
    untouched(store, claim('s1'));

    // A claim that is not granted takes nothing: the message's share already left inline.
    store.signingRecords.claim(other);
    store.signingRecords.markShareSent(other);
    const compute = vi.fn(() => '{"signatureShare":"00"}');
    expect(store.signFromPool({ ...other, sessionId: 's10' }, 'set-b', compute)).toMatchObject({
      kind: 'refused',
      shareReleased: true,
    });
    expect(compute).not.toHaveBeenCalled();
    expect(store.presignatures.holdsPresignature('share-set-1', 'set-b')).toBe(true);
    expect(store.signingRecords.state(other.transactionId, 0)).toBe('SHARE_SENT');

    // Spent by one message, the set is gone for every other: NO_PRESIGNATURE, and the other
    // message is not even claimed.
    // (The set the rolled-back attempt opened is whole: the signing gets its very bytes.)
    const given: string[] = [];
    expect(
      store.signFromPool(claim('s1'), 'set-a', (set) => {
        given.push(Buffer.from(set).toString());
        return '{"signatureShare":"ab"}';
      }),
    ).toEqual({ kind: 'signed', result: '{"signatureShare":"ab"}' });
    expect(given).toEqual(['nonce set a']);
    const third = { ...claim('s11'), transactionId: '9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b' };
    expect(() => store.signFromPool(third, 'set-a', compute)).toThrow(
      expect.objectContaining({ code: 'ERR_COSIGNER_NO_PRESIGNATURE' }),
    );
    untouched(store, third);
    const reopened = await reopen();
    expect(() => reopened.signFromPool(third, 'set-a', compute)).toThrow(
      expect.objectContaining({ code: 'ERR_COSIGNER_NO_PRESIGNATURE' }),
    );
    expect(() => reopened.presignatures.peekPublicPart('share-set-1', 'set-a', () => 0)).toThrow(
      expect.objectContaining({ code: 'ERR_COSIGNER_NO_PRESIGNATURE' }),
    );
    expect(compute).not.toHaveBeenCalled();
    untouched(reopened, third);
    expect(reopened.presignatures.holdsPresignature('share-set-1', 'set-b')).toBe(true);
    reopened.close();
  });

  it('a presign sid is claimed once and a presignature spent once, durably', async () => {
    const { store, reopen } = await freshStore();
    const id = Uint8Array.from({ length: 32 }, (_, i) => i);
    expect(await store.presignSessions.claim(id)).toBe(true);
    expect(await store.presignSessions.claim(id)).toBe(false);
    const reopened = await reopen();
    expect(await reopened.presignSessions.claim(id)).toBe(false);
    expect(await reopened.presignSessions.claim(id.map((b) => b ^ 1))).toBe(true);
    // Spent presignatures are their own claims: the same bytes are a different id there.
    expect(await reopened.spentPresignatures.markSpent(id)).toBe(true);
    expect(await reopened.spentPresignatures.markSpent(id)).toBe(false);
    reopened.close();
  });
});
