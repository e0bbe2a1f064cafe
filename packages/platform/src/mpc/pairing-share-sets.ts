/**
 * How far an approved pairing's share sets are, for the Owner (reshare review M1): shown on the
 * pairing's COSIGNER_PAIR approval request. The first signer's come from KEYGEN, later signers'
 * from RESHARE (reshare-orchestrator.ts); a dealer's refusal, a receiver's wrong report and
 * attempts that ran out are final for the pairing and say so here instead of staying silent.
 */
import type { PairingShareSet } from '@countersign/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { KEYGEN_ALGORITHMS } from './keygen-orchestrator.js';
import { KEY_MISMATCH, MAX_RESHARE_ATTEMPTS } from './reshare-orchestrator.js';

/** The share sets of the pairing approved by `approvalRequestId`; undefined if not PAIRED. */
export async function pairingShareSets(
  db: Kysely<Database>,
  workspaceId: string,
  approvalRequestId: string,
): Promise<PairingShareSet[] | undefined> {
  const pairing = await db
    .selectFrom('cosigner_api_keys')
    .select(['api_user_id', 'cosigner_id', 'updated_at'])
    .where('workspace_id', '=', workspaceId)
    .where('approval_request_id', '=', approvalRequestId)
    .where('status', '=', 'PAIRED')
    .executeTakeFirst();
  if (!pairing) return undefined;
  const made = await db
    .selectFrom('share_sets')
    .select('algorithm')
    .where('workspace_id', '=', workspaceId)
    .where('api_user_id', '=', pairing.api_user_id)
    .where('cosigner_id', '=', pairing.cosigner_id)
    .execute();
  // This pairing's attempts only (as the orchestrator counts them).
  const attempts = await db
    .selectFrom('mpc_sessions')
    .select([
      'algorithm',
      'status',
      'failure_reason',
      'refusal_sub_status',
      'refusal_reason',
      'dealer_api_user_id',
    ])
    .where('workspace_id', '=', workspaceId)
    .where('purpose', '=', 'RESHARE')
    .where('api_user_id', '=', pairing.api_user_id)
    .where('created_at', '>=', pairing.updated_at)
    .orderBy('created_at')
    .execute();
  const refused = attempts.find((a) => a.refusal_sub_status !== null);
  return KEYGEN_ALGORITHMS.map((algorithm): PairingShareSet => {
    if (made.some((m) => m.algorithm === algorithm)) return { algorithm, status: 'READY' };
    if (refused)
      return {
        algorithm,
        status: 'REFUSED',
        subStatus: refused.refusal_sub_status!,
        reason: refused.refusal_reason ?? '',
        ...(refused.dealer_api_user_id === null
          ? {}
          : { dealerApiKeyId: refused.dealer_api_user_id }),
      };
    const mine = attempts.filter((a) => a.algorithm === algorithm);
    if (mine.some((a) => a.failure_reason === KEY_MISMATCH))
      return { algorithm, status: 'BLOCKED' };
    const open = mine.some((a) => a.status === 'OPEN' || a.status === 'DONE');
    if (!open && mine.length >= MAX_RESHARE_ATTEMPTS) return { algorithm, status: 'FAILED' };
    return { algorithm, status: 'PENDING' };
  });
}
