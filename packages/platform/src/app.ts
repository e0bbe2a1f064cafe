/**
 * The platform as a Fastify app: plugins in order (body parsing, errors,
 * services, authentication, metrics, OpenAPI), then routes. The app never
 * listens; `server.ts` does. Tests build it and call `app.inject`.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { loadAssetCatalog } from './assets/asset-catalog.js';
import type { Clock } from './clock.js';
import type { PlatformConfig } from './config.js';
import type { PlatformDatabase } from './db/connect.js';
import './fastify-types.js';
import { authentication } from './plugins/authentication.js';
import { cosignerAuthentication } from './plugins/cosigner-authentication.js';
import { errorHandler } from './plugins/error-handler.js';
import { gracefulClose } from './plugins/graceful-close.js';
import { jsonBody } from './plugins/json-body.js';
import { metrics } from './plugins/metrics.js';
import { installValidators } from './plugins/validation.js';
import { apiUserRoutes } from './routes/api-user-routes.js';
import { approvalRoutes } from './routes/approval-routes.js';
import { auditLogRoutes } from './routes/audit-log-routes.js';
import { cosignerProtocolRoutes } from './routes/cosigner-protocol-routes.js';
import { cosignerRoutes } from './routes/cosigner-routes.js';
import { opsRoutes } from './routes/ops-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
import { mpcRelayRoutes } from './routes/mpc-relay-routes.js';
import { transactionRoutes } from './routes/transaction-routes.js';
import { assetRoutes } from './routes/asset-routes.js';
import { vaultRoutes } from './routes/vault-routes.js';
import { createServices, defaultRelayOptions, type RelayOptions } from './services.js';

/** Never log credentials: request logs carry method, URL and address only, and these are redacted anyway. */
const REDACT = ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie'];

const NONCE_SWEEP_MS = 60_000;
const RELAY_SWEEP_MS = 15_000;

export interface BuildAppOptions {
  config: PlatformConfig;
  database: PlatformDatabase;
  /** Close the database with the app (default true). */
  ownsDatabase?: boolean;
  /** Where logs go (default stdout); tests capture them here. */
  logStream?: { write(line: string): void };
  /** The time co-signer token expiry is judged by (default the system clock); tests move it. */
  clock?: Clock;
  /** MPC relay timing (default {@link defaultRelayOptions}); tests shorten it. */
  relay?: Partial<RelayOptions>;
}

export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { config, database } = options;
  // Checked before anything starts: a bad assets file stops the platform with its reason.
  const assets = loadAssetCatalog(config.assetsFile);
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: REDACT,
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  installValidators(app);
  await app.register(gracefulClose);
  await app.register(jsonBody);
  await app.register(errorHandler);
  await app.register(
    fp(
      (instance: FastifyInstance) => {
        instance.decorate(
          'services',
          createServices(
            database,
            config,
            options.clock,
            {
              ...defaultRelayOptions,
              ...(config.presignaturePoolSize === undefined
                ? {}
                : { presignaturePoolSize: config.presignaturePoolSize }),
              ...options.relay,
            },
            assets,
          ),
        );
        return Promise.resolve();
      },
      { name: 'services' },
    ),
  );
  await app.register(authentication, { maxFailuresPerMinute: config.authFailuresPerMinute });
  await app.register(cosignerAuthentication);
  await app.register(metrics);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Countersign API',
        version: '0.1.0',
        description: 'Wire-compatible with the Fireblocks API for the operations it implements.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          bearerJwt: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT (RS256, signed by the API user key)',
          },
          cosignerAccessToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'opaque co-signer access token (from /cosigner/v1/token)',
          },
        },
      },
      security: [{ apiKey: [], bearerJwt: [] }],
    },
  });

  opsRoutes(app, { metrics: config.metrics });
  sessionRoutes(app);
  apiUserRoutes(app);
  approvalRoutes(app);
  auditLogRoutes(app);
  cosignerRoutes(app);
  cosignerProtocolRoutes(app);
  mpcRelayRoutes(app);
  transactionRoutes(app);
  assetRoutes(app);
  vaultRoutes(app);

  const sweep = setInterval(() => {
    app.services.nonces
      .sweep()
      .catch((err: unknown) => app.log.warn({ err }, 'nonce sweep failed'));
  }, NONCE_SWEEP_MS);
  sweep.unref();
  const relaySweep = setInterval(() => {
    app.services.cosignerJobs
      .expireSessions()
      .catch((err: unknown) => app.log.warn({ err }, 'session expiry sweep failed'));
  }, RELAY_SWEEP_MS);
  relaySweep.unref();
  app.services.presignatures.onTopUpFailure((err: unknown) =>
    app.log.warn({ err }, 'presignature pool top-up failed'),
  );
  // Long polls answer at once rather than hold the close for up to 30 s.
  app.addHook('preClose', (done) => {
    app.services.relayNotifier.close();
    done();
  });
  app.addHook('onClose', async () => {
    clearInterval(sweep);
    clearInterval(relaySweep);
    await app.services.presignatures.stopTopUps();
    if (options.ownsDatabase ?? true) await database.close();
  });

  return app;
}
