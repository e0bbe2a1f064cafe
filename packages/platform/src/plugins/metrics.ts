/**
 * Prometheus metrics. Each app has its own registry, so several platforms in
 * one process (tests, the embedded default) do not collide.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PresignatureStatus } from '../db/schema.js';
import { POOLED_ALGORITHMS } from '../mpc/presignature-pool.js';

const PRESIGNATURE_STATES: readonly PresignatureStatus[] = [
  'MAKING',
  'READY',
  'TAKEN',
  'DISCARDED',
];

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Registry;
  }
}

export const metrics = fp(
  (app: FastifyInstance) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'countersign_' });
    const duration = new Histogram({
      name: 'countersign_http_request_duration_seconds',
      help: 'HTTP request latency by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    const rejected = new Counter({
      name: 'countersign_http_auth_rejections_total',
      help: 'Requests refused by authentication (401) or authorization (403)',
      labelNames: ['status'] as const,
      registers: [registry],
    });
    new Gauge({
      name: 'countersign_presignatures',
      help: 'Pooled entries (ECDSA presignatures, EdDSA nonce sets) by algorithm and state (READY: waiting to be named by a signing)',
      labelNames: ['algorithm', 'status'] as const,
      registers: [registry],
      async collect() {
        const counts = await app.services.presignatures.counts(app.services.database.db);
        for (const algorithm of POOLED_ALGORITHMS)
          for (const status of PRESIGNATURE_STATES) {
            const row = counts.find((c) => c.algorithm === algorithm && c.status === status);
            this.set({ algorithm, status }, row?.n ?? 0);
          }
      },
    });
    const { statementTotals } = app.services.database;
    new Counter({
      name: 'countersign_db_statements_total',
      help: 'Statements the platform ran on its database through its query builder (not BEGIN/COMMIT)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(statementTotals.statements);
      },
    });
    new Counter({
      name: 'countersign_db_statement_seconds_total',
      help: 'Time those statements took to answer, summed',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(statementTotals.seconds);
      },
    });
    app.decorate('metrics', registry);
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? 'unmatched';
      duration.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      if (reply.statusCode === 401 || reply.statusCode === 403)
        rejected.inc({ status: String(reply.statusCode) });
      done();
    });
    return Promise.resolve();
  },
  { name: 'metrics' },
);
