/**
 * The co-signer's own calls (ARCHITECTURE §5), authenticated by its
 * credentials rather than by an API user: `pair` and `token` by the token in
 * their body, the rest by an access token. See docs/pairing.md.
 */
import {
  CosignerApiKeysResponseSchema,
  CosignerRenameRequestSchema,
  CosignerRenameResponseSchema,
  CosignerUnpairParamsSchema,
  CosignerUnpairResponseSchema,
  ErrorBodySchema,
  PairPendingResponseSchema,
  PairRequestSchema,
  PairingPollParamsSchema,
  PairingPollResponseSchema,
  RecoverRequestSchema,
  RecoverResponseSchema,
  PairResponseSchema,
  TokenRequestSchema,
  TokenResponseSchema,
} from '@countersign/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isCloudPairingToken } from '../cosigners/cloud-cosigner-service.js';
import { ACCESS_TOKEN_TTL_MS } from '../cosigners/cosigner-token-service.js';

const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema };
const tags = ['Co-signer protocol'];

export function cosignerProtocolRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { pairing, cosignerTokens } = app.services;

  r.post(
    '/cosigner/v1/pair',
    {
      config: { permission: 'cosignerCredential' },
      schema: {
        tags,
        summary:
          "Exchange a pairing token: 202 while the workspace Owner approves (poll the Location with pollToken); 200 only for a Cloud Co-signer's operator token",
        // No API-user credentials: the pairing token (and, for an existing co-signer, its access token).
        security: [],
        body: PairRequestSchema,
        response: {
          200: PairResponseSchema,
          202: PairPendingResponseSchema,
          409: ErrorBodySchema,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      if (isCloudPairingToken(request.body.pairingToken)) {
        const { outcome, wake } = await app.services.cloudCosigners.register(request.body);
        app.services.mpcSessions.announce(wake);
        const platformKey = (await app.services.authorizationKey.publicKey()).toString('hex');
        reply.header('cache-control', 'no-store');
        return reply.status(200).send({ ...outcome, platformKey });
      }
      const caller =
        request.body.cosignerId === undefined
          ? undefined
          : await cosignerTokens.authenticate(request.headers.authorization);
      const outcome = await pairing.pair(request.body, caller);
      // Every pairing answer names the roster-signing key, so the co-signer can pin it (first
      // pairing) or check it is unchanged (later ones).
      const platformKey = (await app.services.authorizationKey.publicKey()).toString('hex');
      reply.header('cache-control', 'no-store');
      reply.header('location', `/cosigner/v1/pairings/${outcome.requestId}`);
      return reply.status(202).send({ ...outcome, platformKey });
    },
  );

  r.get(
    '/cosigner/v1/pairings/:requestId',
    {
      config: { permission: 'cosignerCredential' },
      schema: {
        tags,
        summary:
          "A waiting pairing's state (Authorization: Bearer <pollToken>); once decided, answered once, with a new co-signer's first refresh token",
        security: [],
        params: PairingPollParamsSchema,
        response: { 200: PairingPollResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const answer = await app.services.pairingPolls.poll(
        request.params.requestId,
        request.headers.authorization,
      );
      const platformKey = (await app.services.authorizationKey.publicKey()).toString('hex');
      reply.header('cache-control', 'no-store');
      return { ...answer, platformKey };
    },
  );

  r.post(
    '/cosigner/v1/token',
    {
      config: { permission: 'cosignerCredential' },
      schema: {
        tags,
        summary: 'Rotate a refresh token: a 5-minute access token and the next refresh token',
        security: [],
        body: TokenRequestSchema,
        response: { 200: TokenResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const t = await cosignerTokens.refresh(request.body.refreshToken);
      reply.header('cache-control', 'no-store');
      return {
        tokenType: 'Bearer' as const,
        accessToken: t.accessToken,
        expiresIn: ACCESS_TOKEN_TTL_MS / 1000,
        expiresAt: t.accessTokenExpiresAt.getTime(),
        refreshToken: t.refreshToken,
        refreshTokenExpiresAt: t.refreshTokenExpiresAt.getTime(),
      };
    },
  );

  r.post(
    '/cosigner/v1/recover',
    {
      config: { permission: 'cosignerCredential' },
      schema: {
        tags,
        summary:
          'A new token family for a co-signer that lost its refresh token, by a request signed with its identity key',
        security: [],
        body: RecoverRequestSchema,
        response: { 200: RecoverResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const issued = await app.services.cosignerRecovery.recover(request.body);
      reply.header('cache-control', 'no-store');
      return {
        refreshToken: issued.refreshToken,
        refreshTokenExpiresAt: issued.expiresAt.getTime(),
      };
    },
  );

  r.get(
    '/cosigner/v1/api_keys',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        summary: "This co-signer's API keys and their pairing status (poll a pending pairing here)",
        security: [{ cosignerAccessToken: [] }],
        response: { 200: CosignerApiKeysResponseSchema, ...errors },
      },
    },
    async (request) => {
      const { cosignerId } = callerOf(request);
      const rows = await app.services.cosigners.pairingsOf(cosignerId);
      return {
        cosignerId,
        apiKeys: rows.map((row) => ({
          apiKeyId: row.api_user_id,
          workspaceId: row.workspace_id,
          workspaceSandbox: row.workspace_sandbox,
          status: row.status,
          requestId: row.approval_request_id,
        })),
      };
    },
  );

  r.post(
    '/cosigner/v1/api_keys/:apiKeyId/unpair',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        summary:
          'The co-signer stopped serving this API key and destroyed its shares: the pairing ends at once (audited; repeatable)',
        security: [{ cosignerAccessToken: [] }],
        params: CosignerUnpairParamsSchema,
        response: { 200: CosignerUnpairResponseSchema, ...errors },
      },
    },
    async (request) => {
      const { cosignerId } = callerOf(request);
      await app.services.cosignerSelf.unpair(cosignerId, request.params.apiKeyId);
      return { apiKeyId: request.params.apiKeyId, status: 'UNPAIRED' as const };
    },
  );

  r.put(
    '/cosigner/v1/name',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        summary: "Rename the calling co-signer (its name in the platform's records; audited)",
        security: [{ cosignerAccessToken: [] }],
        body: CosignerRenameRequestSchema,
        response: { 200: CosignerRenameResponseSchema, ...errors },
      },
    },
    async (request) => {
      const { cosignerId } = callerOf(request);
      const name = await app.services.cosignerSelf.rename(cosignerId, request.body.name);
      return { cosignerId, name };
    },
  );
}

function callerOf(request: FastifyRequest): { cosignerId: string } {
  if (!request.cosigner) throw new Error('co-signer route reached without authentication');
  return request.cosigner;
}
