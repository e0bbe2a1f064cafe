/**
 * `cosigner pair`: pairs an API key with this co-signer (first or additional), then waits for the
 * workspace Owner's approval; without a token, keeps waiting for the pairings still pending.
 */
import { parseArgs } from 'node:util';

import { pairApiKey, waitForPairing, type PairOutcome } from '../../platform/pairing.js';
import { pendingPairings } from '../../platform/pending-pairings.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import {
  PAIRING_FLAGS,
  PAIRING_HELP,
  describePairing,
  pairingToken,
  pairingWait,
  platformUrl,
} from '../pairing-flags.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner pair [--pairing-token <jwt>] [--platform-url <url>] [options]

Pairs an API key with this co-signer: the first pairing registers the co-signer
with the platform. Every pairing waits for the workspace Owner's approval; this
command prints the co-signer's identity fingerprint (the approval request shows
the same one) and waits. Without a token it waits for the pairings still pending.
Exit 5 when the Owner rejects the pairing, 6 when --timeout runs out first.

Options:
${OPEN_HELP}
  --json                    print JSON

${PAIRING_HELP}`;

export async function pairCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { ...OPEN_FLAGS, ...PAIRING_FLAGS, json: { type: 'boolean' } },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const token = await pairingToken(values, io.env);
  const wait = pairingWait(values, io);
  const home = cosignerHome(values.home, io.env);
  const outcomes = await withCosigner(home, values, io.env, async ({ config, store }) => {
    if (token !== undefined) {
      return [
        await pairApiKey(store, {
          pairingToken: token,
          platformUrl: platformUrl(values, io.env),
          name: config.name,
          wait,
        }),
      ];
    }
    const pending = pendingPairings(store);
    if (pending.length === 0) {
      throw new UsageError('a pairing token is required (no pairing of this co-signer is pending)');
    }
    if (wait === undefined) throw new UsageError('--no-wait needs a pairing token');
    const done: PairOutcome[] = [];
    for (const p of pending) {
      await wait.onWaiting?.(p);
      done.push(await waitForPairing(store, p.requestId, wait));
    }
    return done;
  });
  for (const outcome of outcomes) io.stdout(describePairing(outcome, values.json === true));
  return ExitCode.OK;
}
