/** `countersign start`: run the platform server with configuration from the environment. */
import { parseArgs } from 'node:util';
import { buildApp, closeOnSignals, configFromEnv, openDatabase } from '@countersign/platform';
import { databaseFlagHelp, databaseFlagOptions, databaseOptionsFrom } from '../database-flags.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { parsePort } from '../parse-port.js';

export const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 10;

type App = Awaited<ReturnType<typeof buildApp>>;

export const startHelp = `Usage: countersign start [--host <addr>] [--port <n>] [database flags]

Runs the platform API server until SIGINT/SIGTERM, then shuts down gracefully
(stops accepting, finishes in-flight requests, closes the database). If that
takes longer than the shutdown timeout, open connections are cut and the
process exits with status 1. A second signal exits at once.

  --host <addr>   listen address (default 127.0.0.1; $HOST)
  --port <n>      listen port (default 8080; $PORT; 0 picks a free port)

${databaseFlagHelp}

Environment:
  DATABASE_URL, COUNTERSIGN_DATA_DIR   the database, as the flags above
  COUNTERSIGN_TRUST_PROXY    honour X-Forwarded-For (client address for IP
                             allowlists) only from your reverse proxy: its
                             address(es), comma-separated (IP, CIDR, loopback),
                             or the number of proxy hops in front of the
                             server (e.g. 1). Unset: X-Forwarded-For ignored.
                             "true" is refused: it would trust an address
                             the client itself writes.
  COUNTERSIGN_CLOCK_SKEW_SECONDS       client clock tolerance, 0-300 (default 5)
  COUNTERSIGN_METRICS        false turns off /metrics (default true)
  COUNTERSIGN_PRESIGNATURE_POOL        ECDSA presignatures and EdDSA nonce
                                       sets ready per signer, 0-64 (default
                                       8; 0: no pool)
  COUNTERSIGN_SHUTDOWN_TIMEOUT_SECONDS graceful shutdown deadline (default ${DEFAULT_SHUTDOWN_TIMEOUT_SECONDS})
  LOG_LEVEL                  fatal, error, warn, info (default), debug, trace, silent`;

export async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...databaseFlagOptions,
    },
  });
  if (values.help) {
    console.log(startHelp);
    return ExitCode.OK;
  }
  const config = { ...configFromEnv(process.env), database: databaseOptionsFrom(values) };
  const shutdownTimeoutMs = shutdownTimeoutFrom(process.env) * 1000;
  const hostArg = values.host ?? process.env['HOST'] ?? '127.0.0.1';
  const port = parsePort(values.port ?? process.env['PORT'] ?? '8080');

  const database = await openDatabase(config.database);
  let app: App;
  try {
    app = await buildApp({ config, database });
  } catch (error) {
    await database.close();
    throw error;
  }
  // Before listening: a signal at any moment from here closes cleanly, within the deadline.
  closeOnSignals(
    () => closeWithDeadline(app, shutdownTimeoutMs),
    (m) => app.log.info(m),
  );
  try {
    await app.listen({ host: hostArg, port });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${hostArg.includes(':') ? `[${hostArg}]` : hostArg}:${boundPort}`;
  app.log.info({ url }, 'Countersign platform listening');
  return new Promise<number>(() => {
    /* runs until a signal closes it */
  });
}

/**
 * Closes the app gracefully; if that has not finished after `timeoutMs`, cuts
 * every open connection and rejects (closeOnSignals then exits with 1).
 */
export function closeWithDeadline(app: App, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      const message = `countersign start: graceful shutdown did not finish within ${timeoutMs / 1000} s; closing all connections and exiting`;
      console.error(message);
      app.log.error(message);
      app.server.closeAllConnections();
      reject(new Error(message));
    }, timeoutMs);
    app.close().then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function shutdownTimeoutFrom(env: NodeJS.ProcessEnv): number {
  const raw = env['COUNTERSIGN_SHUTDOWN_TIMEOUT_SECONDS'];
  if (raw === undefined || raw.trim() === '') return DEFAULT_SHUTDOWN_TIMEOUT_SECONDS;
  const seconds = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!(seconds > 0 && seconds <= 3600)) {
    throw new UsageError(
      `COUNTERSIGN_SHUTDOWN_TIMEOUT_SECONDS must be a number of seconds above 0 and at most 3600; got ${JSON.stringify(raw)}`,
    );
  }
  return seconds;
}
