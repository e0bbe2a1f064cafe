/** Liveness, readiness, metrics and the OpenAPI document: public, no workspace data. */
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';

const HealthSchema = Type.Object({ status: Type.String() }, { additionalProperties: false });

export function opsRoutes(app: FastifyInstance, options: { metrics: boolean }): void {
  app.get(
    '/healthz',
    { config: { permission: 'public' }, schema: { hide: true, response: { 200: HealthSchema } } },
    () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { permission: 'public' },
      schema: { hide: true, response: { 200: HealthSchema, 503: HealthSchema } },
    },
    async (_request, reply) => {
      try {
        await sql`select 1`.execute(app.services.database.db);
        return { status: 'ready' };
      } catch {
        return reply.status(503).send({ status: 'database unavailable' });
      }
    },
  );

  if (options.metrics) {
    app.get(
      '/metrics',
      { config: { permission: 'public' }, schema: { hide: true } },
      async (_request, reply) => {
        const body = await app.metrics.metrics();
        return reply.type(app.metrics.contentType).send(body);
      },
    );
  }

  app.get('/docs/json', { config: { permission: 'public' }, schema: { hide: true } }, () =>
    app.swagger(),
  );
}
