/** Co-signers and their pairings (`cosigners`, `cosigner_api_keys`). */
import type { PageOrder } from '@countersign/protocol';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type {
  CosignerApiKeysTable,
  CosignerPairingStatus,
  CosignersTable,
  Database,
} from '../db/schema.js';

export type CosignerRow = Selectable<CosignersTable>;
export type CosignerPairingRow = Selectable<CosignerApiKeysTable>;
type Db = Kysely<Database> | Transaction<Database>;

/** Pairings that hold (or are about to hold) an API user's one share set. */
export const LIVE_PAIRING: readonly CosignerPairingStatus[] = ['WAITING_FOR_APPROVAL', 'PAIRED'];

export class CosignerRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertCosigner(
    trx: Transaction<Database>,
    row: Omit<
      CosignerRow,
      'seq' | 'archived' | 'last_seen_at' | 'offline_at' | 'created_at' | 'cloud_slot'
    > & {
      cloud_slot?: number | null;
    },
  ): Promise<void> {
    await trx.insertInto('cosigners').values(row).execute();
  }

  async findById(id: string, db: Db = this.db): Promise<CosignerRow | undefined> {
    return db.selectFrom('cosigners').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByIdentity(
    trx: Transaction<Database>,
    ed25519: string,
  ): Promise<CosignerRow | undefined> {
    return trx
      .selectFrom('cosigners')
      .selectAll()
      .where('identity_ed25519', '=', ed25519)
      .executeTakeFirst();
  }

  /**
   * A co-signer the workspace may see: it registered there, or one of the
   * workspace's API users is paired to it or waits for that pairing. A pairing
   * from another workspace is always the co-signer's own request (its operator
   * used a pairing token; see CosignerService.requestPair), and a rejected or
   * ended one leaves nothing visible (pairing review M3).
   */
  async findVisible(workspaceId: string, id: string): Promise<CosignerRow | undefined> {
    return this.visible(workspaceId).where('id', '=', id).executeTakeFirst();
  }

  /** One page in creation order, starting after the row `after` (a cursor's anchor). */
  async pageVisible(
    workspaceId: string,
    order: PageOrder,
    limit: number,
    after: string | undefined,
  ): Promise<CosignerRow[]> {
    let q = this.visible(workspaceId);
    if (after !== undefined) {
      const anchor = this.db.selectFrom('cosigners').select('seq').where('id', '=', after);
      q = q.where('seq', order === 'ASC' ? '>' : '<', anchor);
    }
    return q
      .orderBy('seq', order === 'ASC' ? 'asc' : 'desc')
      .limit(limit)
      .execute();
  }

  private visible(workspaceId: string) {
    return this.db
      .selectFrom('cosigners')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('workspace_id', '=', workspaceId),
          eb.exists(
            eb
              .selectFrom('cosigner_api_keys as k')
              .select(sql`1`.as('one'))
              .whereRef('k.cosigner_id', '=', 'cosigners.id')
              .where('k.workspace_id', '=', workspaceId)
              .where('k.status', 'in', LIVE_PAIRING),
          ),
        ]),
      );
  }

  async rename(id: string, name: string): Promise<CosignerRow | undefined> {
    return this.db
      .updateTable('cosigners')
      .set({ name })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Records that the co-signer was heard from. Written at most once per
   * `granularityMs`, so a polling co-signer costs a write per interval, not
   * per call.
   */
  async touchLastSeen(id: string, now: Date, granularityMs: number): Promise<void> {
    const staleBefore = new Date(now.getTime() - granularityMs);
    await this.db
      .updateTable('cosigners')
      .set({ last_seen_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_seen_at', 'is', null), eb('last_seen_at', '<', staleBefore)]))
      .execute();
  }

  /**
   * A clean stop: the co-signer is not available for signing until it polls for work again.
   * True if it was not stopped already (the caller audits the change, once).
   */
  async markOffline(id: string, now: Date): Promise<boolean> {
    const r = await this.db
      .updateTable('cosigners')
      .set({ offline_at: now })
      .where('id', '=', id)
      .where('offline_at', 'is', null)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /**
   * The co-signer polls for work: available again if it had stopped before the poll arrived (a
   * poll sent just before a stop and handled after it leaves the stop in place).
   */
  async markServing(id: string, arrivedAt: Date): Promise<void> {
    await this.db
      .updateTable('cosigners')
      .set({ offline_at: null })
      .where('id', '=', id)
      .where('offline_at', '<', arrivedAt)
      .execute();
  }

  async insertPairing(
    trx: Transaction<Database>,
    row: Omit<CosignerPairingRow, 'seq' | 'created_at' | 'updated_at'>,
  ): Promise<void> {
    await trx.insertInto('cosigner_api_keys').values(row).execute();
  }

  /** The API user's live pairing, if any (at most one: a unique index says so). */
  async livePairingOf(
    apiUserId: string,
    db: Db = this.db,
  ): Promise<CosignerPairingRow | undefined> {
    return db
      .selectFrom('cosigner_api_keys')
      .selectAll()
      .where('api_user_id', '=', apiUserId)
      .where('status', 'in', LIVE_PAIRING)
      .executeTakeFirst();
  }

  /** The API user's current pairing with this co-signer in this workspace. */
  async pairingOf(
    workspaceId: string,
    cosignerId: string,
    apiUserId: string,
    statuses: readonly CosignerPairingStatus[],
  ): Promise<CosignerPairingRow | undefined> {
    return this.db
      .selectFrom('cosigner_api_keys')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('cosigner_id', '=', cosignerId)
      .where('api_user_id', '=', apiUserId)
      .where('status', 'in', statuses)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Paired API keys of a co-signer within one workspace, by pairing row id cursor. */
  async pagePaired(
    workspaceId: string,
    cosignerId: string,
    order: PageOrder,
    limit: number,
    after: string | undefined,
  ): Promise<CosignerPairingRow[]> {
    let q = this.db
      .selectFrom('cosigner_api_keys')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('cosigner_id', '=', cosignerId)
      .where('status', '=', 'PAIRED');
    if (after !== undefined) {
      const anchor = this.db.selectFrom('cosigner_api_keys').select('seq').where('id', '=', after);
      q = q.where('seq', order === 'ASC' ? '>' : '<', anchor);
    }
    return q
      .orderBy('seq', order === 'ASC' ? 'asc' : 'desc')
      .limit(limit)
      .execute();
  }

  /**
   * Every pairing of a co-signer, across workspaces, with whether its workspace is a sandbox:
   * what the co-signer itself may see.
   */
  async pairingsOfCosigner(
    cosignerId: string,
  ): Promise<(CosignerPairingRow & { workspace_sandbox: boolean })[]> {
    return this.db
      .selectFrom('cosigner_api_keys as k')
      .innerJoin('workspaces as w', 'w.id', 'k.workspace_id')
      .selectAll('k')
      .select('w.sandbox as workspace_sandbox')
      .where('k.cosigner_id', '=', cosignerId)
      .orderBy('k.seq', 'asc')
      .execute();
  }

  /** Moves a pairing on only from the expected state; false when it was not in it. */
  async transition(
    trx: Transaction<Database>,
    id: string,
    from: CosignerPairingStatus,
    to: CosignerPairingStatus,
    now: Date,
  ): Promise<boolean> {
    const r = await trx
      .updateTable('cosigner_api_keys')
      .set({ status: to, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return r.numUpdatedRows === 1n;
  }

  async setApprovalRequest(
    trx: Transaction<Database>,
    id: string,
    approvalRequestId: string,
  ): Promise<void> {
    await trx
      .updateTable('cosigner_api_keys')
      .set({ approval_request_id: approvalRequestId })
      .where('id', '=', id)
      .execute();
  }
}
