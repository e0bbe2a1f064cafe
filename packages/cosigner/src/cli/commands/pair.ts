/** `cosigner pair`: pairs an API key with this co-signer (first or additional). */
import { parseArgs } from 'node:util';

import { pairApiKey } from '../../platform/pairing.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import {
  PAIRING_FLAGS,
  PAIRING_HELP,
  describePairing,
  pairingToken,
  platformUrl,
} from '../pairing-flags.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner pair --pairing-token <jwt> [--platform-url <url>] [options]

Pairs an API key with this co-signer. The first pairing registers the co-signer
with the platform; pairing another API key to a paired co-signer needs the
workspace Owner's approval, and this command then prints the request to watch.

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
  if (token === undefined) throw new UsageError('a pairing token is required');
  const home = cosignerHome(values.home, io.env);
  const outcome = await withCosigner(home, values, io.env, ({ config, store }) =>
    pairApiKey(store, {
      pairingToken: token,
      platformUrl: platformUrl(values, io.env),
      name: config.name,
    }),
  );
  io.stdout(describePairing(outcome, values.json === true));
  return ExitCode.OK;
}
