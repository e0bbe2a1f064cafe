/**
 * Pairing an API key with this co-signer (ARCHITECTURE.md §5, packages/platform/docs/pairing.md).
 * Every pairing through a pairing token waits for the workspace Owner's approval, which shows the
 * Owner this co-signer's identity-key fingerprint: the platform answers with a request id and a
 * poll token, stored sealed (pending-pairings.ts) before anything else, and the co-signer waits
 * on that request. Once approved, the first pairing's answer carries the co-signer's refresh
 * token, stored sealed at once; a later pairing is covered by the co-signer's own tokens. A Cloud
 * Co-signer's operator token (`cscp_…`) registers it at once.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { pairingProofMessage, type PairingPollResponse } from '@countersign/protocol';

import { CosignerError } from '../errors.js';
import { storedPublicKeys } from '../identity/stored-identity.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import { COSIGNER_VERSION } from '../version.js';
import {
  addPendingPairing,
  pendingPairings,
  removePendingPairing,
  type PendingPairing,
} from './pending-pairings.js';
import { PlatformClient } from './platform-client.js';
import { checkPlatformKey, pinPlatformKey, pinnedPlatformKey } from './platform-key.js';
import {
  PlatformCredentials,
  platformRegistration,
  saveCredential,
} from './platform-credentials.js';
import { recoverRefreshToken, signedByIdentity } from './recovery.js';

/** Platform codes: the poll token is no longer valid; identity-key recovery refused. */
const POLL_TOKEN_INVALID = 1314;
const RECOVERY_REFUSED = 1315;

/** What {@link pairApiKey} did. */
export interface PairOutcome {
  readonly status: 'PAIRED' | 'WAITING_FOR_APPROVAL';
  readonly cosignerId: string;
  readonly apiKeyId: string;
  readonly platformUrl: string;
  /** The COSIGNER_PAIR approval request (absent for a Cloud Co-signer). */
  readonly requestId?: string;
  /** The fingerprint of this co-signer's identity key, as the Owner sees it. */
  readonly identityFingerprint?: string;
}

/** How to wait for the Owner's decision. */
export interface PairingWait {
  /** Give up waiting after this long (the pairing stays pending; wait again later). */
  readonly timeoutMs: number;
  /** Pause between two polls; default 2 s. */
  readonly pollIntervalMs?: number;
  /** Called once the pairing waits, with what to tell the Owner. */
  readonly onWaiting?: (pending: Omit<PendingPairing, 'pollToken'>) => unknown;
  /** Called after each poll that found it still waiting; `unreachable` when the platform was. */
  readonly onProgress?: (waitedMs: number, unreachable: boolean) => void;
  /** Stops waiting early (Ctrl+C). */
  readonly signal?: AbortSignal;
}

/** Options of {@link pairApiKey}. */
export interface PairOptions {
  readonly pairingToken: string;
  /** Needed for the first pairing; later ones use the platform the co-signer is paired with. */
  readonly platformUrl?: string | undefined;
  /** The co-signer's name, shown to admins. */
  readonly name: string;
  /** Wait for the Owner's decision; without it the outcome is WAITING_FOR_APPROVAL. */
  readonly wait?: PairingWait | undefined;
}

/** Exchanges `pairingToken` with the platform, and waits for the Owner if asked to. */
export async function pairApiKey(store: CosignerStore, options: PairOptions): Promise<PairOutcome> {
  const keys = storedPublicKeys(store);
  const identity = {
    ed25519: Buffer.from(keys.identityKey).toString('hex'),
    x25519: Buffer.from(keys.agreementKey).toString('hex'),
  };
  const jti = pairingTokenId(options.pairingToken);
  const request = {
    pairingToken: options.pairingToken,
    identity,
    cosignerName: options.name,
    version: COSIGNER_VERSION,
    // Proof that this co-signer holds the identity key it registers, bound to this token.
    ...(jti === undefined
      ? {}
      : { proof: signedByIdentity(store, pairingProofMessage({ jti, ...identity })) }),
  };
  const registration = platformRegistration(store);
  let client: PlatformClient;
  let answer;
  if (registration === undefined) {
    if (options.platformUrl === undefined) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
        detail: 'the first pairing needs the platform URL',
      });
    }
    const first = pendingPairings(store)[0];
    if (first !== undefined) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
        detail: `this co-signer's first pairing (request ${first.requestId}) still waits for the Owner; run cosigner pair without a token to keep waiting`,
      });
    }
    client = new PlatformClient(options.platformUrl);
    answer = await client.pair(request);
    if (answer.status === 'PAIRED') {
      // A Cloud Co-signer's operator token: registered at once. Pinned before the refresh token
      // is stored: a co-signer with credentials always has a key. The credential is stored
      // before the API key's record: losing the record costs a re-read, losing the credential
      // the pairing.
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
      return {
        status: 'PAIRED',
        cosignerId: answer.cosignerId,
        apiKeyId: answer.apiKeyId,
        platformUrl: client.baseUrl,
      };
    }
  } else {
    const credentials = new PlatformCredentials(store);
    client = credentials.client;
    if (
      options.platformUrl !== undefined &&
      new PlatformClient(options.platformUrl).baseUrl !== client.baseUrl
    ) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
        detail: `this co-signer is paired with ${client.baseUrl}`,
      });
    }
    const accessToken = await credentials.accessToken();
    answer = await client.pair({ ...request, cosignerId: credentials.cosignerId }, accessToken);
    if (answer.status === 'PAIRED') {
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'pair' });
    }
    // Refuse, before storing anything, a platform that now signs with another key.
    checkPlatformKey(store, answer.platformKey);
  }
  const pending: PendingPairing = {
    platformUrl: client.baseUrl,
    cosignerId: answer.cosignerId,
    apiKeyId: answer.apiKeyId,
    requestId: answer.requestId,
    pollToken: answer.pollToken,
    identityFingerprint: answer.identityFingerprint,
    platformKey: answer.platformKey,
  };
  addPendingPairing(store, pending);
  const waiting = waitingOutcome(pending);
  if (options.wait === undefined) return waiting;
  await options.wait.onWaiting?.(waiting as Omit<PendingPairing, 'pollToken'>);
  return waitForPairing(store, pending.requestId, options.wait);
}

/**
 * Waits for the Owner's decision on a pending pairing of this store. Resolves PAIRED (storing
 * the co-signer's first refresh token when the answer carries one); throws
 * ERR_COSIGNER_PAIRING_REJECTED, or ERR_COSIGNER_PAIRING_TIMEOUT with the pairing still pending.
 * An unreachable platform is waited out like an undecided request.
 */
export async function waitForPairing(
  store: CosignerStore,
  requestId: string,
  wait: PairingWait,
): Promise<PairOutcome> {
  const pending = pendingPairings(store).find((p) => p.requestId === requestId);
  if (pending === undefined) {
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: `pending pairing ${requestId}` });
  }
  const client = new PlatformClient(pending.platformUrl);
  const started = Date.now();
  for (;;) {
    let answer: PairingPollResponse | undefined;
    try {
      answer = await client.pairingStatus(pending.requestId, pending.pollToken);
    } catch (e) {
      if (e instanceof CosignerError && e.platformCode === POLL_TOKEN_INVALID) {
        // The decisive answer was lost (or the poll token expired): ask what is left to know.
        return settleWithoutPoll(store, pending);
      }
      if (!(e instanceof CosignerError && e.code === 'ERR_COSIGNER_PLATFORM_UNAVAILABLE')) throw e;
    }
    if (answer !== undefined && answer.status !== 'WAITING_FOR_APPROVAL') {
      return settle(store, pending, answer);
    }
    const waited = Date.now() - started;
    if (waited >= wait.timeoutMs) {
      throw new CosignerError('ERR_COSIGNER_PAIRING_TIMEOUT', {
        detail: `request ${pending.requestId}; run cosigner pair again (without a token) to keep waiting`,
      });
    }
    wait.onProgress?.(waited, answer === undefined);
    await sleep(
      Math.min(wait.pollIntervalMs ?? 2000, wait.timeoutMs - waited),
      undefined,
      wait.signal === undefined ? undefined : { signal: wait.signal },
    );
  }
}

/**
 * The poll token is spent or expired. A co-signer with a credential reads the pairing's state
 * from its API key listing; a new co-signer, whose first refresh token was in the lost answer,
 * recovers one with its identity key — which the platform grants only once the Owner approved.
 */
async function settleWithoutPoll(
  store: CosignerStore,
  pending: PendingPairing,
): Promise<PairOutcome> {
  let status: PairingPollResponse['status'];
  let refreshToken: string | undefined;
  const platformKey = pending.platformKey ?? pinnedKeyHex(store);
  if (platformRegistration(store) === undefined) {
    try {
      refreshToken = await recoverRefreshToken(store, pending, platformKey);
      status = 'PAIRED';
    } catch (e) {
      if (!(e instanceof CosignerError && e.platformCode === RECOVERY_REFUSED)) throw e;
      removePendingPairing(store, pending.requestId);
      throw new CosignerError('ERR_COSIGNER_PAIRING_REJECTED', {
        detail: `request ${pending.requestId} was not approved (rejected, or still undecided when its poll token expired); ask for a new pairing token`,
      });
    }
  } else {
    const credentials = new PlatformCredentials(store);
    const listed = await credentials.client.apiKeys(await credentials.accessToken());
    const mine = listed.apiKeys.find((k) => k.requestId === pending.requestId);
    status = mine?.status ?? 'REJECTED';
    if (status === 'WAITING_FOR_APPROVAL') {
      throw new CosignerError('ERR_COSIGNER_PAIRING_TIMEOUT', {
        detail: `request ${pending.requestId}: the poll token expired; ask for a new pairing token`,
      });
    }
  }
  return settle(store, pending, {
    status,
    cosignerId: pending.cosignerId,
    apiKeyId: pending.apiKeyId,
    requestId: pending.requestId,
    platformKey,
    ...(refreshToken === undefined ? {} : { refreshToken }),
  });
}

/** Records the decision: credential first (losing it costs the pairing), then the key, then forgets the request. */
function settle(
  store: CosignerStore,
  pending: PendingPairing,
  answer: PairingPollResponse,
): PairOutcome {
  if (answer.status !== 'PAIRED') {
    removePendingPairing(store, pending.requestId);
    throw new CosignerError('ERR_COSIGNER_PAIRING_REJECTED', {
      detail: `request ${pending.requestId} for API key ${pending.apiKeyId} is ${answer.status}`,
    });
  }
  if (answer.cosignerId !== pending.cosignerId || answer.apiKeyId !== pending.apiKeyId) {
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'pairings' });
  }
  // Pinned (first pairing) or checked before any credential is stored.
  pinPlatformKey(store, answer.platformKey);
  if (answer.refreshToken !== undefined) {
    if (platformRegistration(store) !== undefined) {
      throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', { detail: 'pairings' });
    }
    saveCredential(store, {
      platformUrl: pending.platformUrl,
      cosignerId: pending.cosignerId,
      refreshToken: answer.refreshToken,
    });
  }
  store.pairedApiKeys.addPairedApiKey({
    apiKeyId: pending.apiKeyId,
    cosignerId: pending.cosignerId,
    platformUrl: pending.platformUrl,
  });
  removePendingPairing(store, pending.requestId);
  return { ...waitingOutcome(pending), status: 'PAIRED' };
}

/**
 * The `jti` of a pairing JWT, read without verifying it (only the platform can; a wrong one just
 * makes the proof useless), or undefined for a Cloud Co-signer's operator token.
 */
function pairingTokenId(token: string): string | undefined {
  const [, payload] = token.split('.');
  if (payload === undefined) return undefined;
  try {
    const jti = (
      JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { jti?: unknown }
    ).jti;
    return typeof jti === 'string' ? jti : undefined;
  } catch {
    return undefined;
  }
}

function pinnedKeyHex(store: CosignerStore): string {
  return Buffer.from(pinnedPlatformKey(store)).toString('hex');
}

function waitingOutcome(pending: PendingPairing): PairOutcome {
  return {
    status: 'WAITING_FOR_APPROVAL',
    cosignerId: pending.cosignerId,
    apiKeyId: pending.apiKeyId,
    platformUrl: pending.platformUrl,
    requestId: pending.requestId,
    identityFingerprint: pending.identityFingerprint,
  };
}
