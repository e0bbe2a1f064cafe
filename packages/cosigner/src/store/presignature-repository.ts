/**
 * The presignature pool of each share set (ARCHITECTURE.md §3): produced ahead of time, consumed
 * atomically and durably *before* use, never reused.
 *
 * {@link PresignatureRepository.takePresignature} runs one `BEGIN IMMEDIATE` transaction — which
 * takes the database write lock before reading, so two connections cannot pick the same row —
 * that marks the oldest available presignature SPENT and erases its blob. Under WAL with
 * `synchronous = FULL` the commit is fsynced before it returns; only then is the sealed blob
 * opened and handed out. A crash after the commit loses that presignature, which is the safe
 * direction. Spent rows stay as markers, so an id can never be inserted again.
 * Sealed with AAD (presignature id, share set id, algorithm).
 * @module
 */
import { CosignerError } from '../errors.js';
import type { ShareSetAlgorithm } from './share-set-repository.js';
import { discardAvailable } from './share-set-repository.js';
import type { StoreContext } from './store-context.js';
import { assertBlob, assertId, blobOf, guarded } from './store-context.js';

/** A presignature taken from the pool: already marked spent on disk. */
export interface TakenPresignature {
  readonly id: string;
  readonly shareSetId: string;
  /** Serialised presignature; the caller owns (and should zero) it. */
  readonly presignature: Uint8Array;
}

/** State of one presignature id. */
export type PresignatureState = 'AVAILABLE' | 'SPENT';

function identity(id: string, shareSetId: string, algorithm: string): string[] {
  return [id, shareSetId, algorithm];
}

/** Repository of presignatures. */
export class PresignatureRepository {
  readonly #c: StoreContext;

  /** @internal */
  constructor(context: StoreContext) {
    this.#c = context;
  }

  /** Adds presignatures to a live share set's pool, all or none. */
  addPresignatures(
    shareSetId: string,
    items: readonly { readonly id: string; readonly presignature: Uint8Array }[],
  ): void {
    assertId(shareSetId, 'shareSetId');
    if (items.length === 0 || items.length > 10_000) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
        detail: 'items must hold 1 to 10000 presignatures',
      });
    }
    for (const item of items) {
      assertId(item.id, 'presignature id');
      assertBlob(item.presignature, 'presignature');
    }
    guarded(this.#c, () => {
      this.#c.db
        .transaction(() => {
          const algorithm = this.#liveAlgorithm(shareSetId);
          const insert = this.#c.db.prepare(
            `INSERT INTO presignatures (id, share_set_id, sealed_blob, state, created_at)
             VALUES (?, ?, ?, 'AVAILABLE', ?)`,
          );
          const now = this.#c.now();
          for (const item of items) {
            const sealed = this.#c.sealer.seal(
              'presignature',
              identity(item.id, shareSetId, algorithm),
              item.presignature,
            );
            insert.run(item.id, shareSetId, sealed, now);
          }
        })
        .immediate();
    });
  }

  /**
   * Takes the presignature `id` of `shareSetId` — or, without an id, the oldest available one —
   * marks it spent durably, then returns it. Throws `ERR_COSIGNER_NO_PRESIGNATURE` when it is
   * not available (spent, discarded, never pooled here) or the pool is empty.
   */
  takePresignature(shareSetId: string, id?: string): TakenPresignature {
    assertId(shareSetId, 'shareSetId');
    if (id !== undefined) assertId(id, 'presignature id');
    const taken = guarded(this.#c, () =>
      this.#c.db
        .transaction(() => {
          const algorithm = this.#liveAlgorithm(shareSetId);
          const row = this.#c.db
            .prepare(
              `SELECT id, sealed_blob FROM presignatures
               WHERE share_set_id = ? AND state = 'AVAILABLE' AND (? IS NULL OR id = ?)
               ORDER BY created_at, id LIMIT 1`,
            )
            .get(shareSetId, id ?? null, id ?? null) as
            | { id: string; sealed_blob: Uint8Array }
            | undefined;
          if (row === undefined) {
            throw new CosignerError('ERR_COSIGNER_NO_PRESIGNATURE', {
              detail: `share set ${shareSetId}${id === undefined ? '' : `, presignature ${id}`}`,
            });
          }
          const result = this.#c.db
            .prepare(
              `UPDATE presignatures SET state = 'SPENT', sealed_blob = NULL, spent_at = ?
               WHERE id = ? AND state = 'AVAILABLE'`,
            )
            .run(this.#c.now(), row.id);
          if (result.changes !== 1) {
            throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT', { detail: 'presignature spend' });
          }
          return { id: row.id, algorithm, sealed: blobOf(row.sealed_blob) };
        })
        .immediate(),
    );
    // Committed (and fsynced) above: from here on the presignature can never be taken again.
    const presignature = this.#c.sealer.open(
      'presignature',
      identity(taken.id, shareSetId, taken.algorithm),
      taken.sealed,
    );
    return { id: taken.id, shareSetId, presignature };
  }

  /**
   * The public part of the available entry `id` of `shareSetId`, as `readPublic` reads it from
   * the opened bytes, without spending it; the bytes are zeroed after. `readPublic` must read
   * only what is public (a PRESIGN job reporting again what it pooled before a crash: an EdDSA
   * nonce set's commitment list, never its nonces). Throws `ERR_COSIGNER_NO_PRESIGNATURE` if it
   * is not available.
   */
  peekPublicPart<T>(
    shareSetId: string,
    id: string,
    readPublic: (presignature: Uint8Array) => T,
  ): T {
    assertId(shareSetId, 'shareSetId');
    assertId(id, 'presignature id');
    const found = guarded(this.#c, () => {
      const algorithm = this.#liveAlgorithm(shareSetId);
      const row = this.#c.db
        .prepare(
          `SELECT sealed_blob FROM presignatures
           WHERE share_set_id = ? AND id = ? AND state = 'AVAILABLE'`,
        )
        .get(shareSetId, id) as { sealed_blob: Uint8Array } | undefined;
      if (row === undefined)
        throw new CosignerError('ERR_COSIGNER_NO_PRESIGNATURE', {
          detail: `share set ${shareSetId}, presignature ${id}`,
        });
      return { algorithm, sealed: blobOf(row.sealed_blob) };
    });
    const bytes = this.#c.sealer.open(
      'presignature',
      identity(id, shareSetId, found.algorithm),
      found.sealed,
    );
    try {
      return readPublic(bytes);
    } finally {
      bytes.fill(0);
    }
  }

  /** Whether entry `id` of `shareSetId` is available here (pooled, not spent): nothing is opened. */
  holdsPresignature(shareSetId: string, id: string): boolean {
    assertId(shareSetId, 'shareSetId');
    assertId(id, 'presignature id');
    return guarded(this.#c, () => {
      const row = this.#c.db
        .prepare(
          `SELECT 1 AS held FROM presignatures
           WHERE share_set_id = ? AND id = ? AND state = 'AVAILABLE'`,
        )
        .get(shareSetId, id) as { held: number } | undefined;
      return row !== undefined;
    });
  }

  /** Number of available presignatures of `shareSetId`. */
  countAvailablePresignatures(shareSetId: string): number {
    assertId(shareSetId, 'shareSetId');
    return guarded(this.#c, () => {
      const row = this.#c.db
        .prepare(
          `SELECT count(*) AS n FROM presignatures WHERE share_set_id = ? AND state = 'AVAILABLE'`,
        )
        .get(shareSetId) as { n: number };
      return row.n;
    });
  }

  /** State of a presignature id, or undefined if this store never had it. */
  getPresignatureState(id: string): PresignatureState | undefined {
    assertId(id, 'id');
    return guarded(this.#c, () => {
      const row = this.#c.db.prepare('SELECT state FROM presignatures WHERE id = ?').get(id) as
        | { state: PresignatureState }
        | undefined;
      return row?.state;
    });
  }

  /** Marks all available presignatures (of one share set, or all) spent; returns how many. */
  discardAvailablePresignatures(shareSetId?: string): number {
    if (shareSetId !== undefined) assertId(shareSetId, 'shareSetId');
    return guarded(this.#c, () =>
      this.#c.db
        .transaction(() => discardAvailable(this.#c.db, this.#c.now(), shareSetId))
        .immediate(),
    );
  }

  /**
   * Keeps the newest `keep` available presignatures of `shareSetId` and discards (marks spent)
   * the older ones; returns how many. Bounds a pool whose entries nobody will name: a PRESIGN
   * session that failed after this party pooled its presignature.
   */
  keepNewestPresignatures(shareSetId: string, keep: number): number {
    assertId(shareSetId, 'shareSetId');
    if (!Number.isSafeInteger(keep) || keep < 0) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'keep' });
    }
    return guarded(
      this.#c,
      () =>
        this.#c.db
          .prepare(
            `UPDATE presignatures SET state = 'SPENT', sealed_blob = NULL, spent_at = ?
             WHERE id IN (
               SELECT id FROM presignatures WHERE share_set_id = ? AND state = 'AVAILABLE'
               ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)`,
          )
          .run(this.#c.now(), shareSetId, keep).changes,
    );
  }

  #liveAlgorithm(shareSetId: string): ShareSetAlgorithm {
    const row = this.#c.db
      .prepare('SELECT algorithm FROM share_sets WHERE id = ? AND destroyed_at IS NULL')
      .get(shareSetId) as { algorithm: ShareSetAlgorithm } | undefined;
    if (row === undefined) {
      throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: `share set ${shareSetId}` });
    }
    return row.algorithm;
  }
}
