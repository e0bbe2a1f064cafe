/**
 * Waiting for the Owner (pairing review H1): a co-signer whose pairing waits for its COSIGNER_PAIR
 * approval holds a poll token (`cspt_…`, stored as its SHA-256) for
 * `GET /cosigner/v1/pairings/{requestId}`. The answer reports the pairing's state; once decided
 * it is given once — with the new co-signer's first refresh token when approval registered it —
 * and the poll token is spent. A co-signer that loses that answer recovers with its identity key
 * (docs/pairing.md, "Recovery").
 */
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { CosignerTokenError } from '../errors.js';
import type { CosignerTokenService } from './cosigner-token-service.js';
import { bearerToken } from './bearer.js';
import { newOpaqueToken, presentedTokenHash } from './opaque-token.js';

/** How long a co-signer may wait with one poll token; later it recovers with its identity key. */
export const PAIRING_POLL_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface PairingPollAnswer {
  status: 'WAITING_FOR_APPROVAL' | 'PAIRED' | 'REJECTED' | 'UNPAIRED';
  cosignerId: string;
  apiKeyId: string;
  requestId: string;
  refreshToken?: string;
}

export class PairingPolls {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly tokens: CosignerTokenService,
    private readonly clock: Clock,
  ) {}

  /** A poll token for a pairing just opened, in the pairing transaction. */
  async open(
    trx: Transaction<Database>,
    pairingId: string,
    startsFamily: boolean,
    now: Date,
  ): Promise<string> {
    const { token, hash } = newOpaqueToken('pairingPoll');
    await trx
      .insertInto('cosigner_pairing_polls')
      .values({
        pairing_id: pairingId,
        token_hash: hash,
        starts_family: startsFamily,
        expires_at: new Date(now.getTime() + PAIRING_POLL_TTL_MS),
      })
      .execute();
    return token;
  }

  /** The pairing's state for the holder of its poll token (`Authorization: Bearer cspt_…`). */
  async poll(requestId: string, authorization: string | undefined): Promise<PairingPollAnswer> {
    const presented = bearerToken(authorization);
    const hash = presented === undefined ? undefined : presentedTokenHash('pairingPoll', presented);
    if (!hash) throw pollInvalid();
    return this.db.transaction().execute(async (trx) => {
      const now = this.clock();
      // Locked: two polls racing for the decision must not both start a token family.
      const row = await trx
        .selectFrom('cosigner_pairing_polls as p')
        .innerJoin('cosigner_api_keys as k', 'k.id', 'p.pairing_id')
        .select([
          'p.pairing_id',
          'p.starts_family',
          'p.expires_at',
          'p.delivered_at',
          'k.status',
          'k.cosigner_id',
          'k.api_user_id',
          'k.approval_request_id',
        ])
        .where('p.token_hash', '=', hash)
        .forUpdate('p')
        .executeTakeFirst();
      if (
        !row ||
        row.approval_request_id !== requestId.toLowerCase() ||
        row.delivered_at !== null ||
        row.expires_at.getTime() <= now.getTime()
      ) {
        throw pollInvalid();
      }
      const answer: PairingPollAnswer = {
        status: row.status,
        cosignerId: row.cosigner_id,
        apiKeyId: row.api_user_id,
        requestId: requestId.toLowerCase(),
      };
      if (row.status === 'WAITING_FOR_APPROVAL') return answer;
      await trx
        .updateTable('cosigner_pairing_polls')
        .set({ delivered_at: now })
        .where('pairing_id', '=', row.pairing_id)
        .execute();
      if (row.status === 'PAIRED' && row.starts_family) {
        const { refreshToken } = await this.tokens.startFamily(trx, row.cosigner_id);
        return { ...answer, refreshToken };
      }
      return answer;
    });
  }
}

function pollInvalid(): CosignerTokenError {
  return new CosignerTokenError(
    'ERR_PAIRING_POLL_TOKEN_INVALID',
    'PAIRING_POLL_TOKEN_INVALID',
    'Poll token is missing, unknown, expired or already used for this pairing request',
  );
}
