/**
 * Vault accounts, asset wallets, addresses and supported assets (`/v1/vault/...`,
 * `/v1/supported_assets`), shaped as the Fireblocks `VaultsApi` and
 * `BlockchainsAssetsApi` models (`VaultAccount`, `VaultAccountsPagedResponse`,
 * `VaultAsset`, `CreateVaultAccountRequest`, `CreateAssetsRequest`,
 * `CreateVaultAssetResponse`, `PaginatedAddressResponse`, `AssetTypeResponse`)
 * so the official SDK works against them unchanged.
 *
 * Balances are not tracked yet: a `VaultAsset` carries its id only, never a
 * made-up zero.
 */
import { Type, type Static } from 'typebox';

/** Vault account ids are decimal strings, sequential per workspace (they are a BIP44 path index). */
export const VaultAccountIdSchema = Type.String({ pattern: '^(0|[1-9][0-9]{0,9})$' });

/** Asset ids as configured (`ETH`, `BTC_TEST`, …). */
export const AssetIdSchema = Type.String({ pattern: '^[A-Z0-9_]{1,32}$' });

export const VaultAccountParamsSchema = Type.Object(
  { vaultAccountId: VaultAccountIdSchema },
  { additionalProperties: false },
);

export const VaultAssetParamsSchema = Type.Object(
  { vaultAccountId: VaultAccountIdSchema, assetId: AssetIdSchema },
  { additionalProperties: false },
);

const VaultAccountNameSchema = Type.String({ minLength: 1, maxLength: 100 });

export const CreateVaultAccountRequestSchema = Type.Object(
  {
    name: VaultAccountNameSchema,
    hiddenOnUI: Type.Optional(Type.Boolean()),
    customerRefId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** Gas Station auto-fuelling is not offered: only `false` is accepted. */
    autoFuel: Type.Optional(Type.Literal(false)),
    /** Only MPC vaults exist here. */
    vaultType: Type.Optional(Type.Literal('MPC')),
    /** Automatic assignment from a pre-created pool is not offered: only `false`. */
    autoAssign: Type.Optional(Type.Literal(false)),
  },
  { additionalProperties: false },
);
export type CreateVaultAccountRequest = Static<typeof CreateVaultAccountRequestSchema>;

export const UpdateVaultAccountRequestSchema = Type.Object(
  { name: VaultAccountNameSchema },
  { additionalProperties: false },
);
export type UpdateVaultAccountRequest = Static<typeof UpdateVaultAccountRequestSchema>;

/** `CreateAssetsRequest`: its one field (`eosAccountName`) concerns EOS, which is not offered. */
export const CreateAssetsRequestSchema = Type.Object({}, { additionalProperties: false });

export const VaultAssetSchema = Type.Object({ id: AssetIdSchema }, { additionalProperties: false });
export type VaultAsset = Static<typeof VaultAssetSchema>;

export const VaultAccountSchema = Type.Object(
  {
    id: VaultAccountIdSchema,
    name: Type.String(),
    assets: Type.Array(VaultAssetSchema),
    hiddenOnUI: Type.Boolean(),
    customerRefId: Type.Optional(Type.String()),
    autoFuel: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type VaultAccount = Static<typeof VaultAccountSchema>;

/** Fireblocks' cursor paging: `before`/`after` are opaque cursors of this listing. */
export const CursorPagingSchema = Type.Object(
  { before: Type.Optional(Type.String()), after: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

const CursorSchema = Type.String({ minLength: 1, maxLength: 256 });

export const VaultAccountsPagedQuerySchema = Type.Object(
  {
    namePrefix: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    nameSuffix: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** Only accounts holding a wallet of this asset. */
    assetId: Type.Optional(AssetIdSchema),
    orderBy: Type.Optional(Type.Union([Type.Literal('ASC'), Type.Literal('DESC')])),
    before: Type.Optional(CursorSchema),
    after: Type.Optional(CursorSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 200 })),
  },
  { additionalProperties: false },
);
export type VaultAccountsPagedQuery = Static<typeof VaultAccountsPagedQuerySchema>;

export const VaultAccountsPagedResponseSchema = Type.Object(
  {
    accounts: Type.Array(VaultAccountSchema),
    paging: CursorPagingSchema,
    previousUrl: Type.Optional(Type.String()),
    nextUrl: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const RenameVaultAccountResponseSchema = Type.Object(
  { id: VaultAccountIdSchema, name: Type.String() },
  { additionalProperties: false },
);

export const VaultActionStatusSchema = Type.Object(
  { success: Type.Boolean() },
  { additionalProperties: false },
);

export const CreateVaultAssetResponseSchema = Type.Object(
  {
    /** The vault account's id. */
    id: VaultAccountIdSchema,
    address: Type.String(),
    legacyAddress: Type.String(),
    enterpriseAddress: Type.String(),
    tag: Type.String(),
  },
  { additionalProperties: false },
);

export const AddressesPaginatedQuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
    before: Type.Optional(CursorSchema),
    after: Type.Optional(CursorSchema),
  },
  { additionalProperties: false },
);
export type AddressesPaginatedQuery = Static<typeof AddressesPaginatedQuerySchema>;

export const VaultWalletAddressSchema = Type.Object(
  {
    assetId: AssetIdSchema,
    address: Type.String(),
    description: Type.String(),
    tag: Type.String(),
    /** `Permanent`: the wallet's first address, derived at creation. */
    type: Type.String(),
    legacyAddress: Type.String(),
    enterpriseAddress: Type.String(),
    /** Bitcoin: `SEGWIT` (P2WPKH); other chains have one format and omit it. */
    addressFormat: Type.Optional(Type.Literal('SEGWIT')),
    bip44AddressIndex: Type.Integer({ minimum: 0 }),
    userDefined: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type VaultWalletAddress = Static<typeof VaultWalletAddressSchema>;

export const PaginatedAddressResponseSchema = Type.Object(
  { addresses: Type.Array(VaultWalletAddressSchema), paging: CursorPagingSchema },
  { additionalProperties: false },
);

/** `AssetTypeResponse`: every configured asset is a chain's native asset (`BASE_ASSET`). */
export const AssetTypeResponseSchema = Type.Object(
  {
    id: AssetIdSchema,
    name: Type.String(),
    type: Type.Literal('BASE_ASSET'),
    nativeAsset: AssetIdSchema,
    decimals: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type AssetTypeResponse = Static<typeof AssetTypeResponseSchema>;

export const GetSupportedAssetsResponseSchema = Type.Array(AssetTypeResponseSchema);
