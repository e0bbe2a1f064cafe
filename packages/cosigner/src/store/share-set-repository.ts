/**
 * Share sets: this party's share of each root key, per API user (ARCHITECTURE.md §3).
 *
 * The share is sealed with AAD binding the share set id, algorithm, version and API key id, so a
 * share copied onto another share set's row, or an old version written back, does not open.
 * Refreshing (a new version) and destroying both discard the set's pooled presignatures in the
 * same transaction: presignatures are bound to the share they were made with.
 *
 * A share set stored with its parties keeps them as its pin (pool review M2): the identity and
 * agreement key of each party index, written with the share and never changed — a refresh keeps
 * the parties, a destroyed set keeps its tombstone's. Public keys, so not sealed.
 * @module
 */

import { ROSTER_KEY_LENGTH, ROSTER_MAX_PARTY_INDEX } from '@countersign/protocol';
import { CosignerError } from '../errors.js';
import type { Database } from './sqlite-driver.js';
import type { StoreContext } from './store-context.js';
import { assertBlob, assertId, blobOf, guarded } from './store-context.js';

/** Signing algorithms of share sets. */
export type ShareSetAlgorithm = 'ECDSA_SECP256K1' | 'EDDSA_ED25519';

const ALGORITHMS: readonly ShareSetAlgorithm[] = ['ECDSA_SECP256K1', 'EDDSA_ED25519'];

/** A share set row without its secret. */
export interface ShareSetRecord {
  readonly id: string;
  readonly apiKeyId: string;
  readonly algorithm: ShareSetAlgorithm;
  readonly version: number;
  readonly createdAt: number;
  readonly destroyedAt: number | null;
}

/** A party that holds a share set: its index (Shamir evaluation point) and public keys. */
export interface ShareSetParty {
  readonly index: number;
  /** Ed25519 identity key, as in the roster. */
  readonly identityKey: Uint8Array;
  /** X25519 agreement key, as in the roster. */
  readonly agreementKey: Uint8Array;
}

/** Input of {@link ShareSetRepository.putShareSet}. */
export interface NewShareSet {
  readonly id: string;
  readonly apiKeyId: string;
  readonly algorithm: ShareSetAlgorithm;
  /** Default 1. */
  readonly version?: number;
  /** Serialised key share (from `@countersign/mpc`). */
  readonly share: Uint8Array;
  /**
   * Every party that holds the share set, from the verified roster that made it: pinned for
   * every later roster of it. Absent: not pinned, like every share set stored before schema 4.
   */
  readonly parties?: readonly ShareSetParty[];
}

interface PartyRow {
  party_index: number;
  identity_key: Uint8Array;
  agreement_key: Uint8Array;
}

interface Row {
  id: string;
  api_key_id: string;
  algorithm: string;
  version: number;
  sealed_blob: Uint8Array | null;
  created_at: number;
  destroyed_at: number | null;
}

function recordOf(row: Row): ShareSetRecord {
  if (!(ALGORITHMS as readonly string[]).includes(row.algorithm)) {
    throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT', { detail: 'share set algorithm' });
  }
  return {
    id: row.id,
    apiKeyId: row.api_key_id,
    algorithm: row.algorithm as ShareSetAlgorithm,
    version: row.version,
    createdAt: row.created_at,
    destroyedAt: row.destroyed_at,
  };
}

/** The AAD identity of a share set's sealed share. */
export function shareSetIdentity(r: ShareSetRecord): (string | number)[] {
  return [r.id, r.algorithm, r.version, r.apiKeyId];
}

function assertAlgorithm(value: unknown): asserts value is ShareSetAlgorithm {
  if (!(ALGORITHMS as readonly unknown[]).includes(value)) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'algorithm' });
  }
}

function invalidParties(detail: string): CosignerError {
  return new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: `parties: ${detail}` });
}

function assertParties(value: unknown): asserts value is readonly ShareSetParty[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidParties('none given');
  const indices = new Set<number>();
  for (const party of value as (Partial<ShareSetParty> | null)[]) {
    const index = party?.index;
    if (
      typeof index !== 'number' ||
      !Number.isInteger(index) ||
      index < 1 ||
      index > ROSTER_MAX_PARTY_INDEX ||
      indices.has(index)
    )
      throw invalidParties(`index ${String(index)} out of range or repeated`);
    indices.add(index);
    const keys = [party?.identityKey, party?.agreementKey];
    if (!keys.every((key) => key instanceof Uint8Array && key.length === ROSTER_KEY_LENGTH))
      throw invalidParties(`party ${index}: keys must be ${ROSTER_KEY_LENGTH} bytes`);
  }
}

function assertVersion(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: 'version must be a positive integer',
    });
  }
}

/** Repository of share sets. */
export class ShareSetRepository {
  readonly #c: StoreContext;

  /** @internal */
  constructor(context: StoreContext) {
    this.#c = context;
  }

  /**
   * Stores a new share set and, when given, its parties, in one transaction;
   * {@link CosignerError} `ERR_COSIGNER_CONFLICT` if the id exists.
   */
  putShareSet(input: NewShareSet): ShareSetRecord {
    const { id, apiKeyId, algorithm, share, parties } = input;
    const version = input.version ?? 1;
    assertId(id, 'id');
    assertId(apiKeyId, 'apiKeyId');
    assertAlgorithm(algorithm);
    assertVersion(version);
    assertBlob(share, 'share');
    if (parties !== undefined) assertParties(parties);
    return guarded(this.#c, () =>
      this.#c.db
        .transaction(() => {
          const record: ShareSetRecord = {
            id,
            apiKeyId,
            algorithm,
            version,
            createdAt: this.#c.now(),
            destroyedAt: null,
          };
          const sealed = this.#c.sealer.seal('share-set', shareSetIdentity(record), share);
          this.#c.db
            .prepare(
              `INSERT INTO share_sets (id, api_key_id, algorithm, version, sealed_blob, created_at)
               VALUES (?, ?, ?, ?, ?, ?)`,
            )
            .run(id, apiKeyId, algorithm, version, sealed, record.createdAt);
          if (parties !== undefined) {
            const pin = this.#c.db.prepare(
              `INSERT INTO share_set_parties (share_set_id, party_index, identity_key, agreement_key)
               VALUES (?, ?, ?, ?)`,
            );
            for (const p of parties) pin.run(id, p.index, p.identityKey, p.agreementKey);
          }
          return record;
        })
        .immediate(),
    );
  }

  /**
   * The parties pinned for share set `id` (also when destroyed), by ascending index; undefined
   * when it is not pinned (stored without parties, or before schema 4) or not stored here.
   */
  pinnedParties(id: string): ShareSetParty[] | undefined {
    assertId(id, 'id');
    return guarded(this.#c, () => {
      const rows = this.#c.db
        .prepare(
          `SELECT party_index, identity_key, agreement_key FROM share_set_parties
           WHERE share_set_id = ? ORDER BY party_index`,
        )
        .all(id) as PartyRow[];
      if (rows.length === 0) return undefined;
      return rows.map((row) => ({
        index: row.party_index,
        identityKey: blobOf(row.identity_key),
        agreementKey: blobOf(row.agreement_key),
      }));
    });
  }

  /** The share set's record (also when destroyed), or undefined. */
  getShareSet(id: string): ShareSetRecord | undefined {
    assertId(id, 'id');
    return guarded(this.#c, () => {
      const row = this.#c.db.prepare('SELECT * FROM share_sets WHERE id = ?').get(id) as
        | Row
        | undefined;
      return row === undefined ? undefined : recordOf(row);
    });
  }

  /** Share sets, oldest first; destroyed ones only when asked. */
  listShareSets(filter: { apiKeyId?: string; includeDestroyed?: boolean } = {}): ShareSetRecord[] {
    if (filter.apiKeyId !== undefined) assertId(filter.apiKeyId, 'apiKeyId');
    return guarded(this.#c, () => {
      const rows = this.#c.db
        .prepare(
          `SELECT * FROM share_sets
           WHERE (@apiKeyId IS NULL OR api_key_id = @apiKeyId) AND (@all = 1 OR destroyed_at IS NULL)
           ORDER BY created_at, id`,
        )
        .all({
          apiKeyId: filter.apiKeyId ?? null,
          all: filter.includeDestroyed === true ? 1 : 0,
        }) as Row[];
      return rows.map(recordOf);
    });
  }

  /** The share of a live share set; the caller owns (and should zero) the returned bytes. */
  readShare(id: string): { record: ShareSetRecord; share: Uint8Array } {
    assertId(id, 'id');
    return guarded(this.#c, () => this.#open(id));
  }

  /**
   * Replaces the share with a refreshed one of a higher version, if the stored version is still
   * `expectedVersion` (compare-and-swap), and discards the set's available presignatures.
   */
  replaceShare(
    id: string,
    input: { expectedVersion: number; version: number; share: Uint8Array },
  ): ShareSetRecord {
    assertId(id, 'id');
    assertVersion(input.expectedVersion);
    assertVersion(input.version);
    assertBlob(input.share, 'share');
    if (input.version <= input.expectedVersion) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail: 'version must increase' });
    }
    return guarded(this.#c, () =>
      this.#c.db
        .transaction(() => {
          const { record: current, share } = this.#open(id);
          share.fill(0);
          if (current.version !== input.expectedVersion) {
            throw new CosignerError('ERR_COSIGNER_CONFLICT', {
              detail: `share set ${id} version changed`,
            });
          }
          return this.#write(current, input.version, input.share);
        })
        .immediate(),
    );
  }

  /**
   * Rewrites the share from the **stored** one, in one write transaction: `update` gets the
   * current share (zeroed afterwards) and returns its replacement, or `undefined` to leave the
   * row alone. The replacement is written under version + 1 and the set's available
   * presignatures are discarded. Unlike {@link replaceShare} there is no compare-and-swap on a
   * copy read earlier: a change that must survive whatever happened to the row meanwhile (a
   * DKLs23 ban, review M2) is applied to what is there now. `update` must be synchronous.
   */
  updateShare(
    id: string,
    update: (share: Uint8Array, record: ShareSetRecord) => Uint8Array | undefined,
  ): ShareSetRecord | undefined {
    assertId(id, 'id');
    return guarded(this.#c, () =>
      this.#c.db
        .transaction(() => {
          const { record: current, share } = this.#open(id);
          let replacement: Uint8Array | undefined;
          try {
            replacement = update(share, current);
          } finally {
            share.fill(0);
          }
          if (replacement === undefined) return undefined;
          try {
            assertBlob(replacement, 'share');
            return this.#write(current, current.version + 1, replacement);
          } finally {
            replacement.fill(0);
          }
        })
        .immediate(),
    );
  }

  /** A live share set's record and opened share (call inside `guarded`). */
  #open(id: string): { record: ShareSetRecord; share: Uint8Array } {
    const row = this.#c.db.prepare('SELECT * FROM share_sets WHERE id = ?').get(id) as
      | Row
      | undefined;
    if (row === undefined || row.sealed_blob === null) {
      throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: `share set ${id}` });
    }
    const record = recordOf(row);
    const share = this.#c.sealer.open(
      'share-set',
      shareSetIdentity(record),
      blobOf(row.sealed_blob),
    );
    return { record, share };
  }

  /** Writes `share` as `version` of the set and discards its presignatures (in a transaction). */
  #write(current: ShareSetRecord, version: number, share: Uint8Array): ShareSetRecord {
    const record: ShareSetRecord = { ...current, version };
    const sealed = this.#c.sealer.seal('share-set', shareSetIdentity(record), share);
    this.#c.db
      .prepare('UPDATE share_sets SET version = ?, sealed_blob = ? WHERE id = ?')
      .run(version, sealed, current.id);
    discardAvailable(this.#c.db, this.#c.now(), current.id);
    return record;
  }

  /** Destroys the share (the row stays, as a tombstone) and discards its presignatures. */
  destroyShareSet(id: string): void {
    assertId(id, 'id');
    guarded(this.#c, () => {
      this.#c.db
        .transaction(() => {
          const now = this.#c.now();
          const result = this.#c.db
            .prepare(
              'UPDATE share_sets SET sealed_blob = NULL, destroyed_at = ? WHERE id = ? AND destroyed_at IS NULL',
            )
            .run(now, id);
          if (result.changes !== 1) {
            throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: `share set ${id}` });
          }
          discardAvailable(this.#c.db, this.#c.now(), id);
        })
        .immediate();
    });
  }
}

/** Marks every available presignature of `shareSetId` (or all) spent, erasing the blobs. */
export function discardAvailable(db: Database, now: number, shareSetId?: string): number {
  return db
    .prepare(
      `UPDATE presignatures SET state = 'SPENT', sealed_blob = NULL, spent_at = ?
       WHERE state = 'AVAILABLE' AND (? IS NULL OR share_set_id = ?)`,
    )
    .run(now, shareSetId ?? null, shareSetId ?? null).changes;
}
