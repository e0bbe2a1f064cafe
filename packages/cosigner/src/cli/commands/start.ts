/** `cosigner start`: the daemon — polls the platform for work and runs it until SIGTERM/SIGINT. */
import { parseArgs } from 'node:util';

import { DEFAULT_CONCURRENCY, MAX_CONCURRENCY, runDaemon } from '../../daemon/cosigner-daemon.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner start [--cloud | --sandbox] [--concurrency <n>] [--approve-pairings-without-handler] [options]

Runs the co-signer: long-polls the platform it is paired with for work (key
generation, signing), takes part in each MPC session over the platform relay
with end-to-end sealed messages, and reports the outcome. Outbound HTTPS only.
Logs are JSON lines on stderr. SIGTERM or SIGINT stops it: jobs in progress are
abandoned, their leases expire and the platform offers them again. One daemon
per home: a second start on the same store exits with code 7.

Options:
${OPEN_HELP}
  --cloud                  run as a Cloud Co-signer (the home must be set up with --cloud)
  --sandbox                run as the operator's communal test co-signer of sandbox
                           workspaces (an API co-signer paired with a sandbox token from
                           countersign cloud-cosigner token --sandbox): serves only
                           sandbox workspaces' API keys, as the platform pairs them
  --concurrency <n>        jobs run at once, 1-${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY.api}, or ${DEFAULT_CONCURRENCY.cloud} with --cloud)
  --approve-pairings-without-handler
                           API co-signer only. Deal this co-signer's key shares to a later
                           signer (RESHARE) for an API key that has no Callback Handler,
                           trusting the platform's word that the workspace Owner approved
                           the pairing. RISK: a compromised platform could then forge that
                           approval and, with the cloud co-signers, obtain the whole root
                           key — every address of every vault. Without this flag such a
                           reshare is refused (PAIRING_NOT_GUARDED); configure a Callback
                           Handler that checks pairings instead (cosigner callback set).`;

export async function startCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      ...OPEN_FLAGS,
      cloud: { type: 'boolean' },
      sandbox: { type: 'boolean' },
      concurrency: { type: 'string' },
      'approve-pairings-without-handler': { type: 'boolean' },
    },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const concurrency = parseConcurrency(values.concurrency);
  // A flag of this run rather than a stored setting: the operator repeats it at every start, it
  // shows in the service definition (systemd unit, compose file) where deployments are reviewed,
  // and dropping it restores the refusal at the next start — a forgotten store setting would not.
  const approvePairingsWithoutHandler = values['approve-pairings-without-handler'] === true;
  if (approvePairingsWithoutHandler && values.cloud === true)
    throw new UsageError(
      '--approve-pairings-without-handler is for API co-signers; cloud co-signers ask no handler',
    );
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
      const sandbox = values.sandbox === true;
      if (sandbox && config.mode === 'cloud')
        throw new UsageError('--sandbox runs an API co-signer; this home is a Cloud Co-signer');
      await runDaemon({
        store,
        mode: config.mode,
        sandbox,
        ...(concurrency === undefined ? {} : { concurrency }),
        approvePairingsWithoutHandler,
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

/** `--concurrency`: a decimal integer in 1..MAX_CONCURRENCY, checked before the store opens. */
function parseConcurrency(flag: string | undefined): number | undefined {
  if (flag === undefined) return undefined;
  const n = /^[0-9]{1,4}$/.test(flag) ? Number(flag) : NaN;
  if (!(n >= 1 && n <= MAX_CONCURRENCY))
    throw new UsageError(`--concurrency must be an integer from 1 to ${MAX_CONCURRENCY}`);
  return n;
}
