import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ApprovalRequestsTable, Database } from '../db/schema.js';

export type ApprovalRequestRow = Selectable<ApprovalRequestsTable>;
export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'REJECTED';
export type ApprovalDecision = 'APPROVE' | 'REJECT';

export class ApprovalRequestRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(
    trx: Transaction<Database>,
    row: Omit<ApprovalRequestRow, 'created_at' | 'decided_at'>,
  ): Promise<void> {
    await trx
      .insertInto('approval_requests')
      .values({ ...row, payload: JSON.stringify(row.payload) })
      .execute();
  }

  /** Locks the row for the rest of the transaction: votes on one request are serialised. */
  async lockById(trx: Transaction<Database>, id: string): Promise<ApprovalRequestRow | undefined> {
    return trx
      .selectFrom('approval_requests')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  }

  async findById(workspaceId: string, id: string): Promise<ApprovalRequestRow | undefined> {
    return this.db
      .selectFrom('approval_requests')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async list(
    workspaceId: string,
    status: ApprovalStatus | undefined,
  ): Promise<ApprovalRequestRow[]> {
    let q = this.db
      .selectFrom('approval_requests')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at', 'desc')
      .limit(500);
    if (status) q = q.where('status', '=', status);
    return q.execute();
  }

  async votes(
    trx: Transaction<Database> | Kysely<Database>,
    id: string,
  ): Promise<{ voter_kind: string; voter_id: string; decision: string; created_at: Date }[]> {
    return trx
      .selectFrom('approval_votes')
      .select(['voter_kind', 'voter_id', 'decision', 'created_at'])
      .where('approval_request_id', '=', id)
      .orderBy('created_at', 'asc')
      .execute();
  }

  /** False when this voter already voted on the request. */
  async addVote(
    trx: Transaction<Database>,
    vote: { requestId: string; voterKind: string; voterId: string; decision: ApprovalDecision },
  ): Promise<boolean> {
    const r = await trx
      .insertInto('approval_votes')
      .values({
        approval_request_id: vote.requestId,
        voter_kind: vote.voterKind,
        voter_id: vote.voterId,
        decision: vote.decision,
      })
      .onConflict((oc) => oc.columns(['approval_request_id', 'voter_kind', 'voter_id']).doNothing())
      .returning('voter_id')
      .executeTakeFirst();
    return r !== undefined;
  }

  async setStatus(trx: Transaction<Database>, id: string, status: ApprovalStatus): Promise<void> {
    await trx
      .updateTable('approval_requests')
      .set({ status, decided_at: new Date() })
      .where('id', '=', id)
      .execute();
  }
}
