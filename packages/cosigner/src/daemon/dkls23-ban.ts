/**
 * Making a DKLs23 ban durable (mpc docs/dkls23-notes.md, "Requirements on the caller"; raw-signing
 * review M2).
 *
 * A failed KOS or μ check bans a peer: the OT setups with it must never be used again, or each
 * new presign lets it probe another bit of Δ. The session destroyed them in its own copy of the
 * key share and in this process's ban table; the stored share must say so before this share set
 * presigns again. So the ban is applied to the share **as stored now**, in the store's write
 * transaction (`ShareSetRepository.updateShare`): a refresh or another daemon's ban written
 * meanwhile is kept, and ours is added to it — there is no stale copy to conflict with.
 *
 * If that write fails (disk full, store busy past its timeout, a damaged row), the ban is not
 * durable, so presigning for the share set stops altogether (fail closed):
 * `assertPresignAllowed` refuses with `ERR_COSIGNER_PRESIGN_BLOCKED`. The block is recorded in
 * memory, per store object (one process may hold several parties' stores — the embedded default
 * — and the same share set id names every party's share), and, by a separate tiny write, in the
 * store's meta table, so that it survives a restart and other processes on the store see it. A
 * blocked share set stays blocked: it needs a refresh, which makes a new share set id. If even
 * the tiny write fails, only the in-memory block holds, until this process ends.
 * @module
 */
import { createHash } from 'node:crypto';

import {
  applyDkls23Ban,
  exportDkls23KeyShare,
  importDkls23KeyShare,
  wipeDkls23KeyShare,
  type Dkls23CheckError,
} from '@countersign/mpc';
import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';

const blocked = new WeakMap<CosignerStore, Set<string>>();

/** The meta key of a durable block (hashed: meta keys are at most 128 characters). */
function blockKey(shareSetId: string): string {
  return `presign_blocked:${createHash('sha256').update(shareSetId).digest('hex')}`;
}

/**
 * Applies `error`'s ban to the stored share of `shareSetId` (a new version; its presignatures are
 * discarded). A failure that bans nobody writes nothing. If the write fails, presigning for the
 * share set is blocked in this process and `ERR_COSIGNER_PRESIGN_BLOCKED` is thrown.
 */
export function persistDkls23Ban(
  store: CosignerStore,
  shareSetId: string,
  error: Dkls23CheckError,
): void {
  try {
    store.shareSets.updateShare(shareSetId, (bytes) => {
      const keyShare = importDkls23KeyShare(bytes);
      try {
        // Idempotent: setups already destroyed (by another daemon's ban) stay destroyed.
        if (applyDkls23Ban(keyShare, error).length === 0) return undefined;
        return exportDkls23KeyShare(keyShare);
      } finally {
        wipeDkls23KeyShare(keyShare);
      }
    });
  } catch (cause) {
    let sets = blocked.get(store);
    if (sets === undefined) blocked.set(store, (sets = new Set()));
    sets.add(shareSetId);
    try {
      store.setMeta(
        blockKey(shareSetId),
        JSON.stringify({ shareSetId, blockedAt: new Date().toISOString() }),
      );
    } catch {
      // The store refuses writes altogether: the in-memory block is all that is left.
    }
    throw new CosignerError('ERR_COSIGNER_PRESIGN_BLOCKED', {
      detail: `share set ${shareSetId}: the ban of a failed OT check could not be stored`,
      cause,
    });
  }
}

/** Throws `ERR_COSIGNER_PRESIGN_BLOCKED` if a ban of `shareSetId` failed to persist. */
export function assertPresignAllowed(store: CosignerStore, shareSetId: string): void {
  if (
    blocked.get(store)?.has(shareSetId) === true ||
    store.getMeta(blockKey(shareSetId)) !== undefined
  )
    throw new CosignerError('ERR_COSIGNER_PRESIGN_BLOCKED', {
      detail: `share set ${shareSetId}: an earlier ban could not be stored; the share set needs a refresh`,
    });
}
