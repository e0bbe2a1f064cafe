/**
 * Pooled EdDSA aggregations prepared ahead (docs/decisions/0006, Decision 4). Once a signing
 * that spends a FROST nonce set has committed, everything its aggregation needs but the shares is
 * known: the public share set, the nonce set's commitment list, the message and its path. The
 * key derivation and the signing package (binding factors, group commitment, challenge) are most
 * of the aggregation's work, so they are done then, while the signer's co-signer asks its
 * Callback Handler, rather than after the last share came in, when the signing waits for them.
 *
 * Only public values go in, and a prepared aggregation is used only for the same values the
 * aggregation reads itself when the shares are in: anything else (a platform restarted in
 * between, another instance, a preparation that failed or was dropped) aggregates from scratch,
 * as before. Kept in this process's memory, at most `limit` at once (the oldest dropped first),
 * each with a digest of its inputs rather than the inputs. One prepared here for a session that
 * another instance settles stays until the limit drops it. Preparing is best effort: whatever
 * fails (a database closing, inputs that make no aggregator) leaves the aggregation to be made
 * when the shares are in, where its errors are handled.
 * @module
 */
import {
  decodePublicShareSet,
  frostAggregator,
  isMpcError,
  type FrostAggregator,
} from '@countersign/mpc/frost-aggregate';
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { parseStoredPath } from './stored-path.js';

/** What a pooled EdDSA signing's aggregation is made from, as stored. */
export interface AggregationInputs {
  /** The signing share set's public share set, hex. */
  readonly publicShareSet: string;
  /** The spent nonce set's commitment list, hex. */
  readonly commitments: string;
  /** The message, hex. */
  readonly content: string;
  /** The message's derivation path, as stored. */
  readonly path: unknown;
}

/** Prepared aggregations kept at most, by default: far more than signings in flight. */
const DEFAULT_LIMIT = 1024;

export class PreparedAggregations {
  private readonly prepared = new Map<string, { inputs: string; aggregator: FrostAggregator }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly limit = DEFAULT_LIMIT,
  ) {}

  /**
   * Prepares the aggregation of SIGN session `sessionId` (committed, spending a pooled nonce
   * set) soon, off the caller's path. Best effort: one that cannot be prepared is made when its
   * shares are in.
   */
  prepareSoon(sessionId: string): void {
    setImmediate(() => {
      this.prepare(sessionId).catch(() => undefined);
    });
  }

  /** How many are kept now. */
  get size(): number {
    return this.prepared.size;
  }

  /**
   * The session's aggregator for `inputs`: the one prepared (`prepared: true`), if it was
   * prepared from these very inputs, else one made now (throwing `MpcError` for bad inputs). The
   * session's prepared one is forgotten either way.
   */
  take(
    sessionId: string,
    inputs: AggregationInputs,
  ): { aggregator: FrostAggregator; prepared: boolean } {
    const kept = this.prepared.get(sessionId);
    this.prepared.delete(sessionId);
    if (kept !== undefined && kept.inputs === canonical(inputs))
      return { aggregator: kept.aggregator, prepared: true };
    return { aggregator: aggregatorOf(inputs), prepared: false };
  }

  /** Forgets the session's prepared aggregation, if any (its session ended otherwise). */
  forget(sessionId: string): void {
    this.prepared.delete(sessionId);
  }

  private async prepare(sessionId: string): Promise<void> {
    const row = await this.db
      .selectFrom('mpc_sessions as s')
      .innerJoin('share_sets as ss', 'ss.id', 's.share_set_id')
      .innerJoin('presignatures as p', 'p.taken_by_session_id', 's.id')
      .innerJoin('transaction_messages as m', 'm.session_id', 's.id')
      .select(['ss.public_share_set', 'p.commitments', 'm.content', 'm.derivation_path'])
      .where('s.id', '=', sessionId)
      .where('s.status', '=', 'OPEN')
      .where('s.algorithm', '=', 'EDDSA_ED25519')
      .executeTakeFirst();
    if (row?.public_share_set == null || row.commitments == null) return;
    const inputs: AggregationInputs = {
      publicShareSet: row.public_share_set,
      commitments: row.commitments,
      content: row.content,
      path: row.derivation_path,
    };
    let aggregator: FrostAggregator;
    try {
      aggregator = aggregatorOf(inputs);
    } catch (error) {
      if (isMpcError(error)) return; // made, and refused, again once the shares are in
      throw error;
    }
    if (this.prepared.size >= this.limit) {
      const oldest = this.prepared.keys().next();
      if (oldest.done !== true) this.prepared.delete(oldest.value);
    }
    this.prepared.set(sessionId, { inputs: canonical(inputs), aggregator });
  }
}

function aggregatorOf(inputs: AggregationInputs): FrostAggregator {
  return frostAggregator({
    shareSet: decodePublicShareSet(Buffer.from(inputs.publicShareSet, 'hex')),
    commitments: Buffer.from(inputs.commitments, 'hex'),
    message: Buffer.from(inputs.content, 'hex'),
    path: parseStoredPath(inputs.path),
  });
}

/** A digest of the inputs: equal exactly when every input is (SHA-256 of one encoding). */
function canonical(inputs: AggregationInputs): string {
  return createHash('sha256')
    .update(
      JSON.stringify([inputs.publicShareSet, inputs.commitments, inputs.content, inputs.path]),
    )
    .digest('hex');
}
