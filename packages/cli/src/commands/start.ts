/** `countersign start`: run the platform server with configuration from the environment. */
import { parseArgs } from 'node:util';
import { closeOnSignals, configFromEnv, startPlatform } from '@countersign/platform';
import { databaseFlagHelp, databaseFlagOptions, databaseOptionsFrom } from '../database-flags.js';
import { ExitCode } from '../exit-codes.js';
import { parsePort } from '../parse-port.js';

export const startHelp = `Usage: countersign start [--host <addr>] [--port <n>] [database flags]

Runs the platform API server until SIGINT/SIGTERM, then shuts down gracefully
(stops accepting, finishes in-flight requests, closes the database).

  --host <addr>   listen address (default 127.0.0.1; $HOST)
  --port <n>      listen port (default 8080; $PORT; 0 picks a free port)

${databaseFlagHelp}

Environment: DATABASE_URL, COUNTERSIGN_DATA_DIR, COUNTERSIGN_TRUST_PROXY
(true | hop count | comma-separated proxy addresses), COUNTERSIGN_CLOCK_SKEW_SECONDS
(default 5), LOG_LEVEL (default info).`;

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
  const running = await startPlatform(config, {
    host: values.host ?? process.env['HOST'] ?? '127.0.0.1',
    port: parsePort(values.port ?? process.env['PORT'] ?? '8080'),
  });
  running.app.log.info({ url: running.url }, 'Countersign platform listening');
  closeOnSignals(
    () => running.close(),
    (m) => running.app.log.info(m),
  );
  return new Promise<number>(() => {
    /* runs until a signal closes it */
  });
}
