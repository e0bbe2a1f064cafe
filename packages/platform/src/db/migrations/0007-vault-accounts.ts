/**
 * Vault accounts, their asset wallets and the wallets' addresses
 * (docs/vaults.md). A vault account's id is a BIP44 path index
 * (`m/44/{coinType}/{vaultAccountId}/0/{index}`), so it is a small integer,
 * sequential per workspace, handed out by a per-workspace counter row that
 * serialises concurrent creations. Addresses are derived from public data and
 * stored with their index, never re-derived on reads.
 */
import { sql, type Kysely } from 'kysely';

/** Non-hardened BIP32 indices end below 2^31. */
const INDEX_LIMIT = sql.lit(2147483647);

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('vault_account_counters')
    .addColumn('workspace_id', 'uuid', (c) => c.primaryKey().references('workspaces.id'))
    .addColumn('next_id', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('vault_accounts')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull().references('workspaces.id'))
    .addColumn('id', 'integer', (c) => c.notNull().check(sql`id >= 0 and id <= ${INDEX_LIMIT}`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('hidden_on_ui', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('customer_ref_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('vault_accounts_pk', ['workspace_id', 'id'])
    .execute();

  await db.schema
    .createTable('vault_wallets')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('vault_account_id', 'integer', (c) => c.notNull())
    .addColumn('asset_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('vault_wallets_pk', ['workspace_id', 'vault_account_id', 'asset_id'])
    .addForeignKeyConstraint(
      'vault_wallets_account_fk',
      ['workspace_id', 'vault_account_id'],
      'vault_accounts',
      ['workspace_id', 'id'],
    )
    .execute();

  await db.schema
    .createTable('vault_addresses')
    .addColumn('workspace_id', 'uuid', (c) => c.notNull())
    .addColumn('vault_account_id', 'integer', (c) => c.notNull())
    .addColumn('asset_id', 'text', (c) => c.notNull())
    .addColumn('bip44_change', 'integer', (c) =>
      c.notNull().check(sql`bip44_change >= 0 and bip44_change <= ${INDEX_LIMIT}`),
    )
    .addColumn('bip44_address_index', 'integer', (c) =>
      c.notNull().check(sql`bip44_address_index >= 0 and bip44_address_index <= ${INDEX_LIMIT}`),
    )
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('vault_addresses_pk', [
      'workspace_id',
      'vault_account_id',
      'asset_id',
      'bip44_change',
      'bip44_address_index',
    ])
    .addForeignKeyConstraint(
      'vault_addresses_wallet_fk',
      ['workspace_id', 'vault_account_id', 'asset_id'],
      'vault_wallets',
      ['workspace_id', 'vault_account_id', 'asset_id'],
    )
    .execute();
  // Incoming funds name an address: find its wallet.
  await db.schema
    .createIndex('vault_addresses_by_address')
    .on('vault_addresses')
    .columns(['workspace_id', 'address'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'vault_addresses',
    'vault_wallets',
    'vault_accounts',
    'vault_account_counters',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
