// The `pkcs11` KMS provider against a real SoftHSM2 token, created fresh in a temporary directory.
// SoftHSM2 missing is a failure, not a skip: .ci/run installs it (apt package `softhsm2`).
import { createRequire } from 'node:module';
import { join } from 'node:path';

import type * as Pkcs11 from 'pkcs11js';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

import type { WrappedKey } from '../src/kms/kms-provider.js';
import type { Pkcs11KmsOptions } from '../src/kms/pkcs11-kms.js';
import { createPkcs11Key, openPkcs11Kms } from '../src/kms/pkcs11-kms.js';
import { initStore, openStore } from '../src/store/cosigner-store.js';
import {
  cleanupTempDirs,
  expectCosignerError,
  pattern,
  snapshotDir,
  tempDir,
} from './store-helpers.js';
import { SOFTHSM_PIN, SOFTHSM_TOKEN, softHsmToken } from './softhsm.js';

let options: Pkcs11KmsOptions;

// Every test awaits this, so a missing SoftHSM2 fails each of them (a failing beforeAll would
// only mark them skipped).
async function softHsm(): Promise<void> {
  const token = await softHsmToken();
  options = { ...token, keyLabel: 'cosigner-wrap-1' };
}

beforeEach(softHsm);
afterAll(cleanupTempDirs);

describe('pkcs11 KMS provider (SoftHSM2)', () => {
  it('generates a sensitive, non-extractable AES-256 key and round-trips a data key with CKM_AES_GCM', async () => {
    const kms = await createPkcs11Key(options);
    const wrapped = await kms.wrapKey(pattern(32, 5));
    expect(wrapped).toMatchObject({
      provider: 'pkcs11',
      keyId: 'cosigner-wrap-1',
      params: { mechanism: 'CKM_AES_GCM' },
    });
    expect(Buffer.from(wrapped.ciphertext, 'base64')).toHaveLength(48);
    expect(await kms.unwrapKey(wrapped)).toEqual(pattern(32, 5));
    await kms.close();

    // Read the key's attributes independently through the raw binding.
    const pkcs11js = createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11;
    const p = new pkcs11js.PKCS11();
    p.load(options.library);
    try {
      p.C_Initialize();
    } catch (e) {
      if (!String(e).includes('CKR_CRYPTOKI_ALREADY_INITIALIZED')) throw e;
    }
    const slot = p
      .C_GetSlotList(true)
      .find((s) => p.C_GetTokenInfo(s).label.trim() === SOFTHSM_TOKEN);
    expect(slot).toBeDefined();
    const session = p.C_OpenSession(slot as Buffer, pkcs11js.CKF_SERIAL_SESSION);
    p.C_Login(session, pkcs11js.CKU_USER, SOFTHSM_PIN);
    p.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: 'cosigner-wrap-1' }]);
    const [key] = p.C_FindObjects(session, 2);
    p.C_FindObjectsFinal(session);
    expect(key).toBeDefined();
    const [extractable, sensitive] = p.C_GetAttributeValue(session, key as Buffer, [
      { type: pkcs11js.CKA_EXTRACTABLE },
      { type: pkcs11js.CKA_SENSITIVE },
    ]);
    expect(extractable?.value).toEqual(Buffer.from([0]));
    expect(sensitive?.value).toEqual(Buffer.from([1]));
    expect(() =>
      p.C_GetAttributeValue(session, key as Buffer, [{ type: pkcs11js.CKA_VALUE }]),
    ).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
    p.C_Logout(session);
    p.C_CloseSession(session);
  });

  it('refuses to create a second key with the same label', async () => {
    await expectCosignerError(createPkcs11Key(options), 'ERR_COSIGNER_KMS_CONFIG');
  });

  it('initialises and reopens a store; a wrong PIN is a typed error and touches no file', async () => {
    const dir = await tempDir();
    const storeDir = join(dir, 'store');
    const kms = await openPkcs11Kms(options);
    const store = await initStore({ dir: storeDir, kms });
    store.shareSets.putShareSet({
      id: 'ss-1',
      apiKeyId: 'ak-1',
      algorithm: 'EDDSA_ED25519',
      share: pattern(64),
    });
    store.close();
    await kms.close();
    const before = await snapshotDir(dir);
    await expectCosignerError(
      openPkcs11Kms({ ...options, pin: '000000' }),
      'ERR_COSIGNER_KMS_AUTH',
    );
    expect(await snapshotDir(dir)).toEqual(before);
    const again = await openPkcs11Kms(options);
    const reopened = await openStore({ dir: storeDir, kms: again });
    expect(reopened.shareSets.readShare('ss-1').share).toEqual(pattern(64));
    reopened.close();
    await again.close();
  });

  it('a wrong or missing HSM key, a missing token, or an altered wrap is a typed error', async () => {
    const kms = await openPkcs11Kms(options);
    const wrapped = await kms.wrapKey(pattern(32));
    const other = await createPkcs11Key({ ...options, keyLabel: 'cosigner-wrap-2' });
    await expectCosignerError(other.unwrapKey(wrapped), 'ERR_COSIGNER_KMS_KEY_MISMATCH');
    // The label forged to match: the HSM's GCM tag check fails.
    const forged: WrappedKey = { ...wrapped, keyId: 'cosigner-wrap-2' };
    await expectCosignerError(other.unwrapKey(forged), 'ERR_COSIGNER_DECRYPTION_FAILED');
    const ct = Buffer.from(wrapped.ciphertext, 'base64');
    ct[3] = (ct[3] ?? 0) ^ 0x80;
    await expectCosignerError(
      kms.unwrapKey({ ...wrapped, ciphertext: ct.toString('base64') }),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    await expectCosignerError(
      openPkcs11Kms({ ...options, keyLabel: 'absent' }),
      'ERR_COSIGNER_KMS_CONFIG',
    );
    await expectCosignerError(
      openPkcs11Kms({ ...options, tokenLabel: 'no-such-token' }),
      'ERR_COSIGNER_KMS_CONFIG',
    );
    await expectCosignerError(
      openPkcs11Kms({ ...options, library: '/nonexistent/libpkcs11.so' }),
      'ERR_COSIGNER_KMS_CONFIG',
    );
    await kms.close();
    await other.close();
  });
});
