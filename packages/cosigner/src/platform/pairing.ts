/**
 * Pairing an API key with this co-signer (ARCHITECTURE.md §5, packages/platform/docs/pairing.md).
 * The first pairing registers the co-signer (its identity keys and name) and returns its refresh
 * token, stored sealed at once. A co-signer already paired asks, with its access token, to add
 * another API key; the workspace Owner must approve, and nothing is stored until then.
 * @module
 */
import { CosignerError } from '../errors.js';
import { storedPublicKeys } from '../identity/stored-identity.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import { COSIGNER_VERSION } from '../version.js';
import { PlatformClient } from './platform-client.js';
import { checkPlatformKey, pinPlatformKey } from './platform-key.js';
import {
  PlatformCredentials,
  platformRegistration,
  saveCredential,
} from './platform-credentials.js';

/** What {@link pairApiKey} did. */
export interface PairOutcome {
  readonly status: 'PAIRED' | 'WAITING_FOR_APPROVAL';
  readonly cosignerId: string;
  readonly apiKeyId: string;
  readonly platformUrl: string;
  /** The approval request to watch, when waiting. */
  readonly requestId?: string;
}

/** Options of {@link pairApiKey}. */
export interface PairOptions {
  readonly pairingToken: string;
  /** Needed for the first pairing; later ones use the platform the co-signer is paired with. */
  readonly platformUrl?: string | undefined;
  /** The co-signer's name, shown to admins. */
  readonly name: string;
}

/** Exchanges `pairingToken` with the platform. */
export async function pairApiKey(store: CosignerStore, options: PairOptions): Promise<PairOutcome> {
  const keys = storedPublicKeys(store);
  const identity = {
    ed25519: Buffer.from(keys.identityKey).toString('hex'),
    x25519: Buffer.from(keys.agreementKey).toString('hex'),
  };
  const request = {
    pairingToken: options.pairingToken,
    identity,
    cosignerName: options.name,
    version: COSIGNER_VERSION,
  };
  if (platformRegistration(store) === undefined) {
    if (options.platformUrl === undefined) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
        detail: 'the first pairing needs the platform URL',
      });
    }
    const client = new PlatformClient(options.platformUrl);
    const answer = await client.pair(request);
    if (answer.status !== 'PAIRED') {
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'pair' });
    }
    // Pinned before the refresh token is stored: a co-signer with credentials always has a key.
    // The credential is stored before the API key's record: losing the record only costs a
    // re-read from the platform, losing the credential costs the pairing.
    pinPlatformKey(store, answer.platformKey);
    saveCredential(store, {
      platformUrl: client.baseUrl,
      cosignerId: answer.cosignerId,
      refreshToken: answer.refreshToken,
    });
    store.pairedApiKeys.addPairedApiKey({
      apiKeyId: answer.apiKeyId,
      cosignerId: answer.cosignerId,
      platformUrl: client.baseUrl,
    });
    return { ...pick(answer), platformUrl: client.baseUrl };
  }
  const credentials = new PlatformCredentials(store);
  if (
    options.platformUrl !== undefined &&
    new PlatformClient(options.platformUrl).baseUrl !== credentials.client.baseUrl
  ) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `this co-signer is paired with ${credentials.client.baseUrl}`,
    });
  }
  const accessToken = await credentials.accessToken();
  const answer = await credentials.client.pair(
    { ...request, cosignerId: credentials.cosignerId },
    accessToken,
  );
  // Refuse, before storing anything, a platform that now signs with another key. Co-signers
  // paired before keys were pinned pin it here.
  if (checkPlatformKey(store, answer.platformKey)) pinPlatformKey(store, answer.platformKey);
  if (answer.status === 'PAIRED') {
    // The platform may pair at once (no approval needed); the co-signer's own tokens cover it.
    store.pairedApiKeys.addPairedApiKey({
      apiKeyId: answer.apiKeyId,
      cosignerId: answer.cosignerId,
      platformUrl: credentials.client.baseUrl,
    });
  }
  return { ...pick(answer), platformUrl: credentials.client.baseUrl };
}

function pick(answer: {
  status: 'PAIRED' | 'WAITING_FOR_APPROVAL';
  cosignerId: string;
  apiKeyId: string;
  requestId?: string;
}): Omit<PairOutcome, 'platformUrl'> {
  return {
    status: answer.status,
    cosignerId: answer.cosignerId,
    apiKeyId: answer.apiKeyId,
    ...(answer.requestId === undefined ? {} : { requestId: answer.requestId }),
  };
}
