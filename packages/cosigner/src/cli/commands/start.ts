/** `cosigner start`: the daemon — polls the platform for work and runs it until SIGTERM/SIGINT. */
import { parseArgs } from 'node:util';

import { runDaemon } from '../../daemon/cosigner-daemon.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner start [--cloud] [options]

Runs the co-signer: long-polls the platform it is paired with for work (key
generation today), takes part in each MPC session over the platform relay with
end-to-end sealed messages, stores the resulting share set sealed in its store,
and reports the outcome. Outbound HTTPS only. Logs are JSON lines on stderr.
SIGTERM or SIGINT stops it: a job in progress is abandoned, its lease expires
and the platform offers it again.

Options:
${OPEN_HELP}
  --cloud                  run as a Cloud Co-signer (the home must be set up with --cloud)`;

export async function startCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { ...OPEN_FLAGS, cloud: { type: 'boolean' } },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const home = cosignerHome(values.home, io.env);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const line = (level: string, message: string, fields: Record<string, unknown> = {}): void =>
    io.stderr(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  try {
    await withCosigner(home, values, io.env, async ({ config, store }) => {
      const cloud = values.cloud === true;
      if ((config.mode === 'cloud') !== cloud)
        throw new UsageError(
          cloud
            ? 'this home is an API co-signer; start it without --cloud'
            : 'this home is a Cloud Co-signer; start it with --cloud',
        );
      await runDaemon({
        store,
        mode: config.mode,
        signal: stop.signal,
        log: {
          info: (message, fields) => line('info', message, fields),
          warn: (message, fields) => line('warn', message, fields),
        },
      });
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return ExitCode.OK;
}
