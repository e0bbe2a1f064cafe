// The platform's roster-signing key is pinned at the first pairing (trust on first use) and a
// different key is refused afterwards, before anything else is stored.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCosignerError } from '../src/errors.js';
import {
  checkPlatformKey,
  pinnedPlatformKey,
  pinPlatformKey,
} from '../src/platform/platform-key.js';
import { initStore } from '../src/store/cosigner-store.js';
import { cleanupTempDirs, tempDir, testLocalKms } from './store-helpers.js';

afterAll(cleanupTempDirs);

const KEY_A = 'a1'.repeat(32);
const KEY_B = 'b2'.repeat(32);

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (e) {
    return isCosignerError(e) ? e.code : 'not a CosignerError';
  }
  return undefined;
}

describe('platform key pinning', () => {
  it('pins the first key, accepts it again, refuses any other', async () => {
    const dir = await tempDir();
    const store = await initStore({ dir: join(dir, 'store'), kms: await testLocalKms(dir) });
    try {
      expect(code(() => pinnedPlatformKey(store))).toBe('ERR_COSIGNER_NOT_PAIRED');
      pinPlatformKey(store, KEY_A);
      expect(Buffer.from(pinnedPlatformKey(store)).toString('hex')).toBe(KEY_A);
      expect(checkPlatformKey(store, KEY_A)).toBe(false);
      pinPlatformKey(store, KEY_A);
      expect(code(() => checkPlatformKey(store, KEY_B))).toBe('ERR_COSIGNER_PLATFORM_KEY_CHANGED');
      expect(code(() => pinPlatformKey(store, KEY_B))).toBe('ERR_COSIGNER_PLATFORM_KEY_CHANGED');
      expect(code(() => pinPlatformKey(store, 'zz'))).toBe('ERR_COSIGNER_PLATFORM_RESPONSE');
      expect(Buffer.from(pinnedPlatformKey(store)).toString('hex')).toBe(KEY_A);
    } finally {
      store.close();
    }
  });
});
