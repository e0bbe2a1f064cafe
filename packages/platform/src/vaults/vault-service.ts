/**
 * Vault accounts and their asset wallets (docs/vaults.md): create, read, page,
 * rename, hide; create an asset wallet, whose first address is derived from
 * the workspace's root key of the asset's algorithm. Every change is audited
 * in the transaction that makes it.
 */
import type {
  AddressesPaginatedQuery,
  CreateVaultAccountRequest,
  VaultAccount,
  VaultAccountsPagedQuery,
  VaultWalletAddress,
} from '@countersign/protocol';
import type { Kysely } from 'kysely';
import type { AssetCatalog } from '../assets/asset-catalog.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import type { Database } from '../db/schema.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import { deriveAddress, EXTERNAL_CHAIN, type RootKey } from './address-derivation.js';
import { keysetPage } from './keyset-page.js';
import { decodeVaultCursor, encodeVaultCursor, type SortOrder } from './vault-cursor.js';
import type { VaultAccountRow, VaultAddressRow, VaultRepository } from './vault-repository.js';

const PRINTABLE = /^[^\p{Cc}\p{Cs}]+$/u;
/** Vault account ids are BIP44 indices: non-hardened, below 2^31. */
const MAX_VAULT_ACCOUNT_ID = 0x7fffffff;
const ACCOUNTS_LISTING = 'vault_accounts';
const DEFAULT_LIMIT = 200;

export interface CursorPaging {
  before?: string;
  after?: string;
}

export class VaultService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly vaults: VaultRepository,
    private readonly assets: AssetCatalog,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async createAccount(actor: Principal, request: CreateVaultAccountRequest): Promise<VaultAccount> {
    const name = checkName(request.name);
    const row = await this.db.transaction().execute(async (trx) => {
      const id = await this.vaults.takeNextAccountId(trx, actor.workspaceId);
      if (id > MAX_VAULT_ACCOUNT_ID) {
        throw new ConflictError(
          'ERR_VAULT_ACCOUNT_LIMIT',
          'CONFLICT',
          'this workspace has used every vault account id (a BIP44 index below 2^31)',
        );
      }
      const now = this.clock();
      const account: VaultAccountRow = {
        workspace_id: actor.workspaceId,
        id,
        name,
        hidden_on_ui: request.hiddenOnUI ?? false,
        customer_ref_id: request.customerRefId ?? null,
        created_at: now,
        updated_at: now,
      };
      await this.vaults.insertAccount(trx, account);
      await this.audit.appendIn(trx, {
        ...actorOf(actor),
        action: 'vault_account.created',
        subject: String(id),
        details: { name, hiddenOnUI: account.hidden_on_ui },
      });
      return account;
    });
    return toVaultAccount(row, []);
  }

  async getAccount(workspaceId: string, vaultAccountId: string): Promise<VaultAccount> {
    const row = await this.requireAccount(workspaceId, vaultAccountId);
    const assets = await this.vaults.walletAssets(workspaceId, [row.id]);
    return toVaultAccount(row, assets.get(row.id) ?? []);
  }

  async pageAccounts(
    workspaceId: string,
    query: VaultAccountsPagedQuery,
  ): Promise<{ accounts: VaultAccount[]; paging: CursorPaging }> {
    const order: SortOrder = query.orderBy ?? 'DESC';
    const page = await keysetPage(
      {
        order,
        limit: query.limit ?? DEFAULT_LIMIT,
        ...cursorKeys(query, ACCOUNTS_LISTING, order, 1),
      },
      (r: VaultAccountRow) => [r.id],
      this.vaults.accountPages(workspaceId, {
        ...(query.namePrefix !== undefined ? { namePrefix: query.namePrefix } : {}),
        ...(query.nameSuffix !== undefined ? { nameSuffix: query.nameSuffix } : {}),
        ...(query.assetId !== undefined ? { assetId: query.assetId } : {}),
      }),
    );
    const assets = await this.vaults.walletAssets(
      workspaceId,
      page.rows.map((r) => r.id),
    );
    return {
      accounts: page.rows.map((r) => toVaultAccount(r, assets.get(r.id) ?? [])),
      paging: pagingOf(page, ACCOUNTS_LISTING, order),
    };
  }

  async rename(actor: Principal, vaultAccountId: string, newName: string): Promise<VaultAccount> {
    const name = checkName(newName);
    await this.update(actor, vaultAccountId, { name }, (before) => ({
      action: 'vault_account.renamed',
      details: { from: before.name, to: name },
    }));
    return this.getAccount(actor.workspaceId, vaultAccountId);
  }

  /** Hidden accounts stay fully usable; the flag is for consoles that list thousands of them. */
  async setHidden(actor: Principal, vaultAccountId: string, hidden: boolean): Promise<void> {
    await this.update(actor, vaultAccountId, { hidden_on_ui: hidden }, () => ({
      action: hidden ? 'vault_account.hidden' : 'vault_account.unhidden',
      details: {},
    }));
  }

  /**
   * Creates the account's wallet of `assetId` with its first address, derived at
   * `m/44/{coinType}/{vaultAccountId}/0/0` from the workspace root key.
   */
  async createWallet(
    actor: Principal,
    vaultAccountId: string,
    assetId: string,
  ): Promise<{ address: string }> {
    const asset = this.assets.require(assetId);
    const account = await this.requireAccount(actor.workspaceId, vaultAccountId);
    const root = await this.rootKey(actor.workspaceId, asset.algorithm);
    const index = 0;
    const derived = deriveAddress(root, asset, account.id, index);
    await this.db.transaction().execute(async (trx) => {
      const now = this.clock();
      if (!(await this.vaults.insertWallet(trx, actor.workspaceId, account.id, asset.id, now))) {
        throw new ConflictError(
          'ERR_VAULT_ASSET_EXISTS',
          'VAULT_ASSET_EXISTS',
          `vault account ${account.id} already has a ${asset.id} wallet`,
        );
      }
      await this.vaults.insertAddress(trx, {
        workspace_id: actor.workspaceId,
        vault_account_id: account.id,
        asset_id: asset.id,
        bip44_change: EXTERNAL_CHAIN,
        bip44_address_index: index,
        address: derived.address,
        created_at: now,
      });
      await this.audit.appendIn(trx, {
        ...actorOf(actor),
        action: 'vault_wallet.created',
        subject: `${account.id}/${asset.id}`,
        details: {
          vaultAccountId: String(account.id),
          assetId: asset.id,
          address: derived.address,
          derivationPath: `m/${derived.derivationPath.join('/')}`,
        },
      });
    });
    return { address: derived.address };
  }

  /** The wallet as a `VaultAsset`; 404 when the account holds none of this asset. */
  async getWallet(
    workspaceId: string,
    vaultAccountId: string,
    assetId: string,
  ): Promise<{ id: string }> {
    const asset = this.assets.require(assetId);
    const account = await this.requireAccount(workspaceId, vaultAccountId);
    if (!(await this.vaults.hasWallet(workspaceId, account.id, asset.id))) {
      throw new NotFoundError(`${asset.id} wallet of vault account ${account.id}`);
    }
    return { id: asset.id };
  }

  async pageAddresses(
    workspaceId: string,
    vaultAccountId: string,
    assetId: string,
    query: AddressesPaginatedQuery,
  ): Promise<{ addresses: VaultWalletAddress[]; paging: CursorPaging }> {
    const asset = this.assets.require(assetId);
    await this.getWallet(workspaceId, vaultAccountId, asset.id);
    const accountId = Number(vaultAccountId);
    const listing = `addresses:${accountId}:${asset.id}`;
    const page = await keysetPage(
      {
        order: 'ASC',
        limit: query.limit ?? DEFAULT_LIMIT,
        ...cursorKeys(query, listing, 'ASC', 2),
      },
      (r: VaultAddressRow) => [r.bip44_change, r.bip44_address_index],
      this.vaults.addressPages(workspaceId, accountId, asset.id),
    );
    return {
      addresses: page.rows.map((r) => ({
        assetId: r.asset_id,
        address: r.address,
        description: '',
        tag: '',
        type: 'Permanent',
        legacyAddress: '',
        enterpriseAddress: '',
        ...(asset.family === 'BITCOIN' ? { addressFormat: 'SEGWIT' as const } : {}),
        bip44AddressIndex: r.bip44_address_index,
        userDefined: false,
      })),
      paging: pagingOf(page, listing, 'ASC'),
    };
  }

  private async requireAccount(
    workspaceId: string,
    vaultAccountId: string,
  ): Promise<VaultAccountRow> {
    const id = Number(vaultAccountId);
    const row =
      Number.isSafeInteger(id) && id <= MAX_VAULT_ACCOUNT_ID
        ? await this.vaults.findAccount(workspaceId, id)
        : undefined;
    if (!row) throw new NotFoundError(`Vault account ${vaultAccountId}`);
    return row;
  }

  private async rootKey(workspaceId: string, algorithm: RootKey['algorithm']): Promise<RootKey> {
    const row = await this.vaults.findRootKey(workspaceId, algorithm);
    if (!row || row.chain_code === null) {
      throw new ConflictError(
        'ERR_ROOT_KEY_MISSING',
        'ROOT_KEY_MISSING',
        `this workspace has no ${algorithm} root key yet: it is generated when the first ` +
          'signer (a SIGNER or ADMIN API user) is paired to a co-signer',
      );
    }
    return {
      algorithm,
      publicKey: Buffer.from(row.public_key, 'hex'),
      chainCode: Buffer.from(row.chain_code, 'hex'),
    };
  }

  /** Applies `changes` and audits them in one transaction. */
  private async update(
    actor: Principal,
    vaultAccountId: string,
    changes: { name?: string; hidden_on_ui?: boolean },
    describe: (before: VaultAccountRow) => { action: string; details: Record<string, unknown> },
  ): Promise<void> {
    const before = await this.requireAccount(actor.workspaceId, vaultAccountId);
    await this.db.transaction().execute(async (trx) => {
      await this.vaults.updateAccount(trx, actor.workspaceId, before.id, {
        ...changes,
        updated_at: this.clock(),
      });
      await this.audit.appendIn(trx, {
        ...actorOf(actor),
        ...describe(before),
        subject: String(before.id),
      });
    });
  }
}

function actorOf(actor: Principal) {
  return { workspaceId: actor.workspaceId, actorKind: actor.kind, actorId: actor.id };
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100 || !PRINTABLE.test(trimmed)) {
    throw new ValidationError(
      'ERR_VAULT_ACCOUNT_NAME',
      'INVALID_REQUEST',
      'name must be 1 to 100 printable characters',
    );
  }
  return trimmed;
}

function toVaultAccount(row: VaultAccountRow, assetIds: string[]): VaultAccount {
  return {
    id: String(row.id),
    name: row.name,
    assets: assetIds.map((id) => ({ id })),
    hiddenOnUI: row.hidden_on_ui,
    ...(row.customer_ref_id !== null ? { customerRefId: row.customer_ref_id } : {}),
    autoFuel: false,
  };
}

function cursorKeys(
  query: { before?: string; after?: string },
  listing: string,
  order: SortOrder,
  keyLength: number,
) {
  return {
    ...(query.before !== undefined
      ? { before: decodeVaultCursor(query.before, listing, order, keyLength) }
      : {}),
    ...(query.after !== undefined
      ? { after: decodeVaultCursor(query.after, listing, order, keyLength) }
      : {}),
  };
}

function pagingOf(
  page: { before?: readonly number[]; after?: readonly number[] },
  listing: string,
  order: SortOrder,
): CursorPaging {
  return {
    ...(page.before ? { before: encodeVaultCursor(listing, order, page.before) } : {}),
    ...(page.after ? { after: encodeVaultCursor(listing, order, page.after) } : {}),
  };
}
