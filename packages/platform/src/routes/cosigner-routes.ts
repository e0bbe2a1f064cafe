/**
 * `/v1/cosigners...` exactly as the Fireblocks `CosignersBetaApi` calls it,
 * and `/v1/countersign/api_users/{apiKey}/pairing_token` (ours).
 */
import {
  ApiKeyParamsSchema,
  ApiKeySchema,
  ApiKeysPaginatedResponseSchema,
  CosignerApiKeyParamsSchema,
  CosignerCommandStatusSchema,
  CosignerIdParamsSchema,
  CosignerRequestParamsSchema,
  CosignerSchema,
  CosignersPaginatedResponseSchema,
  ErrorBodySchema,
  PageQuerySchema,
  PairApiKeyRequestSchema,
  PairApiKeyResponseSchema,
  PairingTokenResponseSchema,
  RenameCosignerSchema,
  UpdateCallbackHandlerRequestSchema,
  type ApiKey,
  type Cosigner,
} from '@countersign/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { CosignerPairingRow, CosignerRow } from '../cosigners/cosigner-repository.js';
import { versionHash } from '../cosigners/pairing-service.js';
import { NotImplementedError } from '../errors.js';
import { principalOf } from './principal-of.js';

const errors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  404: ErrorBodySchema,
};
const tags = ['Co-signers (beta)'];

function callbackHandlersLater(): NotImplementedError {
  return new NotImplementedError(
    'Callback handler configuration is not supported yet; pair without callbackHandler (requests are then signed automatically)',
  );
}

export function cosignerRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { cosigners, pairing } = app.services;
  const statusUrl = (cosignerId: string, apiKeyId: string, requestId: string) =>
    `/v1/cosigners/${cosignerId}/api_keys/${apiKeyId}/${requestId}`;

  r.get(
    '/v1/cosigners',
    {
      config: { permission: 'cosigners:read' },
      schema: {
        tags,
        summary: 'List co-signers (cursor pages)',
        querystring: PageQuerySchema,
        response: { 200: CosignersPaginatedResponseSchema, ...errors },
      },
    },
    async (request) => {
      const page = await cosigners.list(principalOf(request).workspaceId, request.query);
      return { data: page.rows.map(toCosigner), next: page.next };
    },
  );

  r.get(
    '/v1/cosigners/:cosignerId',
    {
      config: { permission: 'cosigners:read' },
      schema: {
        tags,
        summary: 'Get a co-signer',
        params: CosignerIdParamsSchema,
        response: { 200: CosignerSchema, ...errors },
      },
    },
    async (request) =>
      toCosigner(await cosigners.get(principalOf(request).workspaceId, request.params.cosignerId)),
  );

  r.patch(
    '/v1/cosigners/:cosignerId',
    {
      config: { permission: 'cosigners:rename' },
      schema: {
        tags,
        summary: 'Rename a co-signer',
        params: CosignerIdParamsSchema,
        body: RenameCosignerSchema,
        response: { 200: CosignerSchema, ...errors },
      },
    },
    async (request) =>
      toCosigner(
        await cosigners.rename(principalOf(request), request.params.cosignerId, request.body.name),
      ),
  );

  r.get(
    '/v1/cosigners/:cosignerId/api_keys',
    {
      config: { permission: 'cosigners:read' },
      schema: {
        tags,
        summary: "List a co-signer's paired API keys (cursor pages)",
        params: CosignerIdParamsSchema,
        querystring: PageQuerySchema,
        response: { 200: ApiKeysPaginatedResponseSchema, ...errors },
      },
    },
    async (request) => {
      const page = await cosigners.listApiKeys(
        principalOf(request).workspaceId,
        request.params.cosignerId,
        request.query,
      );
      return { data: page.rows.map((row) => toApiKey(row, page.cosigner)), next: page.next };
    },
  );

  r.get(
    '/v1/cosigners/:cosignerId/api_keys/:apiKeyId',
    {
      config: { permission: 'cosigners:read' },
      schema: {
        tags,
        summary: 'Get a paired API key',
        params: CosignerApiKeyParamsSchema,
        response: { 200: ApiKeySchema, ...errors },
      },
    },
    async (request) => {
      const { cosigner, pairing: row } = await cosigners.getApiKey(
        principalOf(request).workspaceId,
        request.params.cosignerId,
        request.params.apiKeyId,
      );
      return toApiKey(row, cosigner);
    },
  );

  r.put(
    '/v1/cosigners/:cosignerId/api_keys/:apiKeyId',
    {
      config: { permission: 'cosigners:pairApiKey' },
      schema: {
        tags,
        summary:
          'Pair an API key with an existing co-signer: 202, the Owner approves; Location is the request status',
        params: CosignerApiKeyParamsSchema,
        body: PairApiKeyRequestSchema,
        response: {
          202: PairApiKeyResponseSchema,
          409: ErrorBodySchema,
          501: ErrorBodySchema,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      if (request.body.callbackHandler !== undefined) throw callbackHandlersLater();
      const { cosignerId, apiKeyId } = request.params;
      const command = await cosigners.requestPair(principalOf(request), cosignerId, apiKeyId);
      return reply
        .status(202)
        .header('location', statusUrl(cosignerId, apiKeyId, command.requestId))
        .send({ id: apiKeyId });
    },
  );

  r.delete(
    '/v1/cosigners/:cosignerId/api_keys/:apiKeyId',
    {
      config: { permission: 'cosigners:unpairApiKey' },
      schema: {
        tags,
        summary:
          'Unpair an API key: 202, the admin quorum approves; Location is the request status',
        params: CosignerApiKeyParamsSchema,
        response: { 202: ApiKeySchema, 409: ErrorBodySchema, ...errors },
      },
    },
    async (request, reply) => {
      const { cosignerId, apiKeyId } = request.params;
      const command = await cosigners.requestUnpair(principalOf(request), cosignerId, apiKeyId);
      return reply
        .status(202)
        .header('location', statusUrl(cosignerId, apiKeyId, command.requestId))
        .send({ id: apiKeyId });
    },
  );

  r.patch(
    '/v1/cosigners/:cosignerId/api_keys/:apiKeyId',
    {
      config: { permission: 'cosigners:updateCallbackHandler' },
      schema: {
        tags,
        summary: 'Update the callback handler of a paired API key (not supported yet: 501)',
        params: CosignerApiKeyParamsSchema,
        body: UpdateCallbackHandlerRequestSchema,
        response: { 501: ErrorBodySchema, ...errors },
      },
    },
    () => {
      throw callbackHandlersLater();
    },
  );

  r.get(
    '/v1/cosigners/:cosignerId/api_keys/:apiKeyId/:requestId',
    {
      config: { permission: 'cosigners:read' },
      schema: {
        tags,
        summary: 'Status of a pair or unpair request',
        params: CosignerRequestParamsSchema,
        response: { 200: CosignerCommandStatusSchema, ...errors },
      },
    },
    async (request) =>
      cosigners.commandStatus(
        principalOf(request).workspaceId,
        request.params.cosignerId,
        request.params.apiKeyId,
        request.params.requestId,
      ),
  );

  r.post(
    '/v1/countersign/api_users/:apiKey/pairing_token',
    {
      config: { permission: 'cosigners:issuePairingToken' },
      schema: {
        tags,
        summary:
          'Issue a single-use pairing token for a SIGNER or ADMIN API user (never for yourself)',
        params: ApiKeyParamsSchema,
        response: { 200: PairingTokenResponseSchema, 409: ErrorBodySchema, ...errors },
      },
    },
    async (request, reply) => {
      const issued = await pairing.issuePairingToken(principalOf(request), request.params.apiKey);
      return reply
        .header('cache-control', 'no-store')
        .send({ pairingToken: issued.pairingToken, expiresAt: issued.expiresAt.getTime() });
    },
  );
}

export function toCosigner(row: CosignerRow): Cosigner {
  return {
    archived: row.archived,
    id: row.id,
    name: row.name,
    type: row.type as NonNullable<Cosigner['type']>,
    version: { hash: versionHash(row.version), name: row.version },
  };
}

/** A paired API key is seen whenever its co-signer is: the co-signer serves all its keys. */
function toApiKey(row: CosignerPairingRow, cosigner: CosignerRow): ApiKey {
  return {
    id: row.api_user_id,
    ...(cosigner.last_seen_at ? { lastSeen: cosigner.last_seen_at.toISOString() } : {}),
  };
}
