/**
 * What a new co-signer store holds before anything is paired: its name and mode, the callback key
 * (the co-signer signs its Callback Handler requests with it; `cosigner print-public-key` shows
 * it) and its party identity. `cosigner setup` and the embedded default (`countersign dev`) both
 * fill new stores with it, so a store made either way opens and reads the same.
 * @module
 */
import { createCallbackKey } from '../callback/callback-key.js';
import type { PartyPublicKeys } from '../channel/identity.js';
import { createStoredIdentity } from '../identity/stored-identity.js';
import type { CosignerStore } from './cosigner-store.js';

/** Fills a freshly initialised store; returns the party identity's public keys. */
export async function provisionStore(
  store: CosignerStore,
  name: string,
  mode: 'api' | 'cloud',
): Promise<PartyPublicKeys> {
  store.setMeta('name', name);
  store.setMeta('mode', mode);
  await createCallbackKey(store);
  const identity = createStoredIdentity(store);
  try {
    return identity.publicKeys();
  } finally {
    identity.dispose();
  }
}
