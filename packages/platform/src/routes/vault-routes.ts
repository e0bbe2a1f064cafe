/** `/v1/vault/...`: vault accounts, asset wallets and addresses (Fireblocks `VaultsApi` shapes). */
import {
  AddressesPaginatedQuerySchema,
  CreateVaultAccountRequestSchema,
  CreateVaultAssetResponseSchema,
  ErrorBodySchema,
  PaginatedAddressResponseSchema,
  RenameVaultAccountResponseSchema,
  UpdateVaultAccountRequestSchema,
  VaultAccountParamsSchema,
  VaultAccountSchema,
  VaultAccountsPagedQuerySchema,
  VaultAccountsPagedResponseSchema,
  VaultActionStatusSchema,
  VaultAssetParamsSchema,
  VaultAssetSchema,
} from '@countersign/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../errors.js';
import { principalOf } from './principal-of.js';

const tags = ['Vaults'];
const errors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  404: ErrorBodySchema,
};

/**
 * Operations without a request body: the official SDK sends none (or, for
 * `createVaultAccountAsset`, an optional `CreateAssetsRequest` whose only field
 * is EOS-specific). An empty object is accepted; anything else is refused.
 */
function refuseBody(body: unknown): void {
  const empty =
    body === undefined ||
    body === null ||
    (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
  if (!empty) {
    throw new ValidationError(
      'ERR_VAULT_BODY',
      'INVALID_REQUEST',
      'this operation takes no request fields (eosAccountName: EOS is not offered)',
    );
  }
}

export function vaultRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const vaults = app.services.vaults;

  r.post(
    '/v1/vault/accounts',
    {
      config: { permission: 'vaults:create' },
      schema: {
        tags,
        summary: 'Create a vault account (its id is the next in this workspace)',
        body: CreateVaultAccountRequestSchema,
        response: { 200: VaultAccountSchema, ...errors },
      },
    },
    async (request) => vaults.createAccount(principalOf(request), request.body),
  );

  r.get(
    '/v1/vault/accounts_paged',
    {
      config: { permission: 'vaults:read' },
      schema: {
        tags,
        summary: 'List vault accounts (cursor pages, by id; newest first unless orderBy=ASC)',
        querystring: VaultAccountsPagedQuerySchema,
        response: { 200: VaultAccountsPagedResponseSchema, ...errors },
      },
    },
    async (request) => vaults.pageAccounts(principalOf(request).workspaceId, request.query),
  );

  r.get(
    '/v1/vault/accounts/:vaultAccountId',
    {
      config: { permission: 'vaults:read' },
      schema: {
        tags,
        summary: 'Get a vault account',
        params: VaultAccountParamsSchema,
        response: { 200: VaultAccountSchema, ...errors },
      },
    },
    async (request) =>
      vaults.getAccount(principalOf(request).workspaceId, request.params.vaultAccountId),
  );

  r.put(
    '/v1/vault/accounts/:vaultAccountId',
    {
      config: { permission: 'vaults:rename' },
      schema: {
        tags,
        summary: 'Rename a vault account',
        params: VaultAccountParamsSchema,
        body: UpdateVaultAccountRequestSchema,
        response: { 200: RenameVaultAccountResponseSchema, ...errors },
      },
    },
    async (request) => {
      const account = await vaults.rename(
        principalOf(request),
        request.params.vaultAccountId,
        request.body.name,
      );
      return { id: account.id, name: account.name };
    },
  );

  for (const [action, hidden] of [
    ['hide', true],
    ['unhide', false],
  ] as const) {
    r.post(
      `/v1/vault/accounts/:vaultAccountId/${action}`,
      {
        config: { permission: 'vaults:hide' },
        schema: {
          tags,
          summary: hidden
            ? 'Hide a vault account from console listings (it stays usable)'
            : 'Show a hidden vault account again',
          params: VaultAccountParamsSchema,
          response: { 200: VaultActionStatusSchema, ...errors },
        },
      },
      async (request) => {
        refuseBody(request.body);
        await vaults.setHidden(principalOf(request), request.params.vaultAccountId, hidden);
        return { success: true };
      },
    );
  }

  r.post(
    '/v1/vault/accounts/:vaultAccountId/:assetId',
    {
      config: { permission: 'vaults:create' },
      schema: {
        tags,
        summary:
          'Create an asset wallet: its address is derived from the workspace root key at ' +
          'm/44/{coinType}/{vaultAccountId}/0/0 (non-hardened)',
        params: VaultAssetParamsSchema,
        response: { 200: CreateVaultAssetResponseSchema, 409: ErrorBodySchema, ...errors },
      },
    },
    async (request) => {
      refuseBody(request.body);
      const { vaultAccountId, assetId } = request.params;
      const { address } = await vaults.createWallet(principalOf(request), vaultAccountId, assetId);
      return { id: vaultAccountId, address, legacyAddress: '', enterpriseAddress: '', tag: '' };
    },
  );

  r.get(
    '/v1/vault/accounts/:vaultAccountId/:assetId',
    {
      config: { permission: 'vaults:read' },
      schema: {
        tags,
        summary: "Get a vault account's asset wallet",
        params: VaultAssetParamsSchema,
        response: { 200: VaultAssetSchema, ...errors },
      },
    },
    async (request) =>
      vaults.getWallet(
        principalOf(request).workspaceId,
        request.params.vaultAccountId,
        request.params.assetId,
      ),
  );

  r.get(
    '/v1/vault/accounts/:vaultAccountId/:assetId/addresses_paginated',
    {
      config: { permission: 'vaults:read' },
      schema: {
        tags,
        summary: "List an asset wallet's addresses (cursor pages)",
        params: VaultAssetParamsSchema,
        querystring: AddressesPaginatedQuerySchema,
        response: { 200: PaginatedAddressResponseSchema, ...errors },
      },
    },
    async (request) =>
      vaults.pageAddresses(
        principalOf(request).workspaceId,
        request.params.vaultAccountId,
        request.params.assetId,
        request.query,
      ),
  );
}
