/**
 * The co-signer's long-term party identity (ARCHITECTURE.md §5), kept in the store's sealed
 * secrets. Made once at setup; a restored backup brings it along, so a moved co-signer keeps the
 * identity its platform registered.
 * @module
 */
import type { PartyPublicKeys } from '../channel/identity.js';
import { PartyIdentity } from '../channel/identity.js';
import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';

const IDENTITY_SECRET = 'identity.ed25519';
const AGREEMENT_SECRET = 'identity.x25519';

/** Generates and stores the identity; refuses if the store already has one. */
export function createStoredIdentity(store: CosignerStore): PartyIdentity {
  if (store.secrets.getSecret(IDENTITY_SECRET) !== undefined) {
    throw new CosignerError('ERR_COSIGNER_CONFLICT', {
      detail: 'the store already has an identity',
    });
  }
  const identity = PartyIdentity.generate();
  const keys = identity.exportSecretKeys();
  try {
    store.secrets.putSecret(IDENTITY_SECRET, keys.identitySecretKey);
    store.secrets.putSecret(AGREEMENT_SECRET, keys.agreementSecretKey);
  } finally {
    keys.identitySecretKey.fill(0);
    keys.agreementSecretKey.fill(0);
  }
  return identity;
}

/** The stored identity; ERR_COSIGNER_NOT_FOUND if setup never made one. */
export function loadStoredIdentity(store: CosignerStore): PartyIdentity {
  const identitySecretKey = store.secrets.getSecret(IDENTITY_SECRET);
  const agreementSecretKey = store.secrets.getSecret(AGREEMENT_SECRET);
  try {
    if (identitySecretKey === undefined || agreementSecretKey === undefined) {
      throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: 'party identity' });
    }
    return PartyIdentity.fromSecretKeys({ identitySecretKey, agreementSecretKey });
  } finally {
    identitySecretKey?.fill(0);
    agreementSecretKey?.fill(0);
  }
}

/** The stored identity's public keys (the secret keys are loaded, copied out and wiped). */
export function storedPublicKeys(store: CosignerStore): PartyPublicKeys {
  const identity = loadStoredIdentity(store);
  try {
    return identity.publicKeys();
  } finally {
    identity.dispose();
  }
}
