import type { Kysely, Selectable, Transaction } from 'kysely';
import { Batcher } from '../db/batcher.js';
import type { ApiUsersTable, Database } from '../db/schema.js';

export type ApiUserRow = Selectable<ApiUsersTable>;

/** Lifecycle of an API user: created pending the admin quorum, then ready (or rejected). */
export type ApiUserStatus = 'PENDING_APPROVAL' | 'READY' | 'REJECTED';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class ApiUserRepository {
  /** Authentication reads one user per request: concurrent reads share a query. */
  private readonly byId: Batcher<string, ApiUserRow>;

  constructor(private readonly db: Kysely<Database>) {
    this.byId = new Batcher(
      async (ids) => {
        const rows = await this.db
          .selectFrom('api_users')
          .selectAll()
          .where('id', 'in', ids)
          .execute();
        return new Map(rows.map((r) => [r.id, r]));
      },
      (id) => id,
    );
  }

  /** Always read from the database (never cached): disabling a key takes effect at once. */
  async findForAuthentication(id: string): Promise<ApiUserRow | undefined> {
    if (!UUID.test(id)) return undefined;
    return this.byId.load(id.toLowerCase());
  }

  async findById(id: string, trx?: Transaction<Database>): Promise<ApiUserRow | undefined> {
    if (!UUID.test(id)) return undefined;
    return (trx ?? this.db)
      .selectFrom('api_users')
      .selectAll()
      .where('id', '=', id.toLowerCase())
      .executeTakeFirst();
  }

  async listByWorkspace(workspaceId: string): Promise<ApiUserRow[]> {
    return this.db
      .selectFrom('api_users')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
  }

  async nameTaken(trx: Transaction<Database>, workspaceId: string, name: string): Promise<boolean> {
    const row = await trx
      .selectFrom('api_users')
      .select('id')
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row !== undefined;
  }

  async insert(trx: Transaction<Database>, row: Omit<ApiUserRow, 'created_at'>): Promise<void> {
    await trx
      .insertInto('api_users')
      .values({ ...row, ip_allowlist: JSON.stringify(row.ip_allowlist) })
      .execute();
  }

  async setStatus(
    trx: Transaction<Database>,
    id: string,
    status: ApiUserStatus,
    enabled: boolean,
  ): Promise<void> {
    await trx.updateTable('api_users').set({ status, enabled }).where('id', '=', id).execute();
  }

  async setIpAllowlist(trx: Transaction<Database>, id: string, allowlist: string[]): Promise<void> {
    await trx
      .updateTable('api_users')
      .set({ ip_allowlist: JSON.stringify(allowlist) })
      .where('id', '=', id)
      .execute();
  }
}
