/**
 * Runs the platform: opens the database (migrating it), builds the app and
 * listens. SIGINT/SIGTERM close it gracefully: the listener stops, in-flight
 * requests finish, then the database closes.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import type { PlatformConfig } from './config.js';
import { openDatabase } from './db/connect.js';

export interface RunningPlatform {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startPlatform(
  config: PlatformConfig,
  listen: { host: string; port: number },
): Promise<RunningPlatform> {
  const database = await openDatabase(config.database);
  const app = await buildApp({ config, database });
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}

/** Closes the platform once on SIGINT or SIGTERM; a second signal exits at once. */
export function closeOnSignals(close: () => Promise<void>, log: (msg: string) => void): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) process.exit(1);
    closing = true;
    log(`${signal} received: shutting down`);
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
