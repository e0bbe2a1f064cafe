/**
 * Pairings this co-signer waits for (packages/platform/docs/pairing.md): every pairing through a
 * pairing token waits for the workspace Owner's approval, and the platform answers with a poll
 * token. The waiting pairings — platform, ids, fingerprint and poll token — are one sealed
 * secret of the store, so a `cosigner pair` that stopped waiting (timeout, Ctrl+C, a restart)
 * can resume: the poll token is what collects a new co-signer's first refresh token.
 * @module
 */
import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';

const PENDING_SECRET = 'platform.pending-pairings';
const PENDING_VERSION = 1;

/** A pairing waiting for the Owner's approval. */
export interface PendingPairing {
  readonly platformUrl: string;
  readonly cosignerId: string;
  readonly apiKeyId: string;
  readonly requestId: string;
  readonly pollToken: string;
  /** The identity-key fingerprint the Owner sees in the approval request. */
  readonly identityFingerprint: string;
  /**
   * The platform's authorization key named in the pairing answer (hex): pinned only once the
   * pairing is approved, and what a recovery request is bound to if the decision is lost.
   */
  readonly platformKey?: string;
}

const FIELDS = [
  'platformUrl',
  'cosignerId',
  'apiKeyId',
  'requestId',
  'pollToken',
  'identityFingerprint',
] as const;

/** The waiting pairings, oldest first. */
export function pendingPairings(store: CosignerStore): PendingPairing[] {
  const bytes = store.secrets.getSecret(PENDING_SECRET);
  if (bytes === undefined) return [];
  try {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      v?: unknown;
      pairings?: unknown;
    };
    if (value.v !== PENDING_VERSION || !Array.isArray(value.pairings)) throw corrupt();
    return value.pairings.map((p: Record<string, unknown>) => {
      if (FIELDS.some((f) => typeof p[f] !== 'string')) throw corrupt();
      if (p['platformKey'] !== undefined && typeof p['platformKey'] !== 'string') throw corrupt();
      return Object.fromEntries(
        [...FIELDS, 'platformKey'].filter((f) => p[f] !== undefined).map((f) => [f, p[f]]),
      ) as unknown as PendingPairing;
    });
  } finally {
    bytes.fill(0);
  }
}

/** Adds a waiting pairing (written before anything is shown, so it can be resumed). */
export function addPendingPairing(store: CosignerStore, pairing: PendingPairing): void {
  write(store, [
    ...pendingPairings(store).filter((p) => p.requestId !== pairing.requestId),
    pairing,
  ]);
}

/** Forgets a pairing once decided. */
export function removePendingPairing(store: CosignerStore, requestId: string): void {
  const rest = pendingPairings(store).filter((p) => p.requestId !== requestId);
  if (rest.length === 0) store.secrets.deleteSecret(PENDING_SECRET);
  else write(store, rest);
}

/** Points the waiting pairings at the platform's new address (move-platform.ts). */
export function movePendingPairings(store: CosignerStore, platformUrl: string): void {
  const pairings = pendingPairings(store);
  if (pairings.length > 0)
    write(
      store,
      pairings.map((p) => ({ ...p, platformUrl })),
    );
}

function write(store: CosignerStore, pairings: PendingPairing[]): void {
  const bytes = Buffer.from(JSON.stringify({ v: PENDING_VERSION, pairings }));
  try {
    store.secrets.putSecret(PENDING_SECRET, bytes, { replace: true });
  } finally {
    bytes.fill(0);
  }
}

function corrupt(): CosignerError {
  return new CosignerError('ERR_COSIGNER_STORE_CORRUPT', { detail: 'pending pairings' });
}
