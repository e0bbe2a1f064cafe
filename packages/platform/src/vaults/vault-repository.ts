/** Vault accounts, asset wallets and addresses (`vault_*` tables, migration 0007). */
import type { KeyAlgorithm } from '@countersign/protocol';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type {
  Database,
  RootKeysTable,
  VaultAccountsTable,
  VaultAddressesTable,
} from '../db/schema.js';
import type { KeysetFetch } from './keyset-page.js';
import type { RowKey } from './vault-cursor.js';

export type VaultAccountRow = Selectable<VaultAccountsTable>;
export type VaultAddressRow = Selectable<VaultAddressesTable>;
type Db = Kysely<Database> | Transaction<Database>;

export interface VaultAccountFilter {
  namePrefix?: string;
  nameSuffix?: string;
  /** Only accounts holding a wallet of this asset. */
  assetId?: string;
}

/** `(c1, c2, …) op (k1, k2, …)`: PostgreSQL row comparison, the keyset bound. */
function beyond(columns: readonly string[], op: '<' | '>', key: RowKey) {
  const left = sql.join(columns.map((c) => sql.ref(c)));
  const right = sql.join(key.map((k) => sql.lit(k)));
  return sql<boolean>`(${left}) ${sql.raw(op)} (${right})`;
}

export class VaultRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The workspace's next vault account id; the counter row serialises concurrent creations. */
  async takeNextAccountId(trx: Transaction<Database>, workspaceId: string): Promise<number> {
    const row = await trx
      .insertInto('vault_account_counters')
      .values({ workspace_id: workspaceId, next_id: 1 })
      .onConflict((oc) =>
        oc.column('workspace_id').doUpdateSet({ next_id: sql`vault_account_counters.next_id + 1` }),
      )
      .returning('next_id')
      .executeTakeFirstOrThrow();
    return row.next_id - 1;
  }

  async insertAccount(trx: Transaction<Database>, row: VaultAccountRow): Promise<void> {
    await trx.insertInto('vault_accounts').values(row).execute();
  }

  async findAccount(
    workspaceId: string,
    id: number,
    db: Db = this.db,
  ): Promise<VaultAccountRow | undefined> {
    return db
      .selectFrom('vault_accounts')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async updateAccount(
    trx: Transaction<Database>,
    workspaceId: string,
    id: number,
    changes: { name?: string; hidden_on_ui?: boolean; updated_at: Date },
  ): Promise<VaultAccountRow> {
    return trx
      .updateTable('vault_accounts')
      .set(changes)
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** A keyset fetch over the workspace's accounts in id order, filtered. */
  accountPages(workspaceId: string, filter: VaultAccountFilter): KeysetFetch<VaultAccountRow> {
    return async (bound, sort, limit) => {
      let q = this.db
        .selectFrom('vault_accounts')
        .selectAll()
        .where('workspace_id', '=', workspaceId);
      if (filter.namePrefix !== undefined) {
        q = q.where(sql<boolean>`starts_with(name, ${filter.namePrefix})`);
      }
      if (filter.nameSuffix !== undefined) {
        q = q.where(sql<boolean>`right(name, ${filter.nameSuffix.length}) = ${filter.nameSuffix}`);
      }
      if (filter.assetId !== undefined) {
        const assetId = filter.assetId;
        q = q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('vault_wallets as w')
              .select('w.asset_id')
              .whereRef('w.workspace_id', '=', 'vault_accounts.workspace_id')
              .whereRef('w.vault_account_id', '=', 'vault_accounts.id')
              .where('w.asset_id', '=', assetId),
          ),
        );
      }
      if (bound) q = q.where(beyond(['id'], bound.op, bound.key));
      return q
        .orderBy('id', sort === 'ASC' ? 'asc' : 'desc')
        .limit(limit)
        .execute();
    };
  }

  /** Asset ids of each account's wallets, in creation order. */
  async walletAssets(workspaceId: string, accountIds: number[]): Promise<Map<number, string[]>> {
    const byAccount = new Map<number, string[]>(accountIds.map((id) => [id, []]));
    if (accountIds.length === 0) return byAccount;
    const rows = await this.db
      .selectFrom('vault_wallets')
      .select(['vault_account_id', 'asset_id'])
      .where('workspace_id', '=', workspaceId)
      .where('vault_account_id', 'in', accountIds)
      .orderBy('created_at')
      .orderBy('asset_id')
      .execute();
    for (const r of rows) byAccount.get(r.vault_account_id)?.push(r.asset_id);
    return byAccount;
  }

  async hasWallet(workspaceId: string, accountId: number, assetId: string, db: Db = this.db) {
    const row = await db
      .selectFrom('vault_wallets')
      .select('asset_id')
      .where('workspace_id', '=', workspaceId)
      .where('vault_account_id', '=', accountId)
      .where('asset_id', '=', assetId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Inserts the wallet; false when the account already holds one of this asset. */
  async insertWallet(
    trx: Transaction<Database>,
    workspaceId: string,
    accountId: number,
    assetId: string,
    at: Date,
  ): Promise<boolean> {
    const inserted = await trx
      .insertInto('vault_wallets')
      .values({
        workspace_id: workspaceId,
        vault_account_id: accountId,
        asset_id: assetId,
        created_at: at,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('asset_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  async insertAddress(trx: Transaction<Database>, row: VaultAddressRow): Promise<void> {
    await trx.insertInto('vault_addresses').values(row).execute();
  }

  /** A keyset fetch over one wallet's addresses in `[change, index]` order. */
  addressPages(
    workspaceId: string,
    accountId: number,
    assetId: string,
  ): KeysetFetch<VaultAddressRow> {
    return async (bound, sort, limit) => {
      let q = this.db
        .selectFrom('vault_addresses')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('vault_account_id', '=', accountId)
        .where('asset_id', '=', assetId);
      if (bound) q = q.where(beyond(['bip44_change', 'bip44_address_index'], bound.op, bound.key));
      const direction = sort === 'ASC' ? 'asc' : 'desc';
      return q
        .orderBy('bip44_change', direction)
        .orderBy('bip44_address_index', direction)
        .limit(limit)
        .execute();
    };
  }

  async findRootKey(
    workspaceId: string,
    algorithm: KeyAlgorithm,
    db: Db = this.db,
  ): Promise<Selectable<RootKeysTable> | undefined> {
    return db
      .selectFrom('root_keys')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('algorithm', '=', algorithm)
      .executeTakeFirst();
  }
}
