/**
 * `cosigner print-public-key`: the co-signer's party identity — the Ed25519 key that signs its
 * MPC messages and the X25519 key peers encrypt to — as registered at pairing, so an operator can
 * compare it with what the platform shows.
 */
import { parseArgs } from 'node:util';

import { storedPublicKeys } from '../../identity/stored-identity.js';
import { ExitCode } from '../exit-codes.js';
import { hex, json } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner print-public-key [--json] [options]

Prints the co-signer's Ed25519 identity key (hex). With --json, also the X25519
agreement key.

Options:
${OPEN_HELP}
  --json                   print JSON`;

export async function printPublicKeyCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { ...OPEN_FLAGS, json: { type: 'boolean' } },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const home = cosignerHome(values.home, io.env);
  const keys = await withCosigner(home, values, io.env, ({ store }) => storedPublicKeys(store));
  io.stdout(
    values.json === true
      ? json({ identityKey: hex(keys.identityKey), agreementKey: hex(keys.agreementKey) })
      : hex(keys.identityKey) + '\n',
  );
  return ExitCode.OK;
}
