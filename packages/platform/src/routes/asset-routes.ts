/** `GET /v1/supported_assets` (Fireblocks `BlockchainsAssetsApi.getSupportedAssets`). */
import { ErrorBodySchema, GetSupportedAssetsResponseSchema } from '@countersign/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';

export function assetRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/v1/supported_assets',
    {
      config: { permission: 'assets:read' },
      schema: {
        tags: ['Assets'],
        summary: 'The assets this platform is configured for (its assets file)',
        response: {
          200: GetSupportedAssetsResponseSchema,
          401: ErrorBodySchema,
          403: ErrorBodySchema,
        },
      },
    },
    () => app.services.assets.supportedAssets(),
  );
}
