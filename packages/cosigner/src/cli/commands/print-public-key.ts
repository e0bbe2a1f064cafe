/**
 * `cosigner print-public-key`: the co-signer's callback public key (RSA, SPKI PEM), which a
 * Callback Handler is configured with to verify the co-signer's requests (ARCHITECTURE.md §7).
 * `--json` adds the party identity — the Ed25519 key that signs MPC messages and the X25519 key
 * peers encrypt to — as registered at pairing, to compare with what the platform shows.
 */
import { parseArgs } from 'node:util';

import { callbackPublicKeyPem } from '../../callback/callback-key.js';
import { storedPublicKeys } from '../../identity/stored-identity.js';
import { ExitCode } from '../exit-codes.js';
import { hex, json } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner print-public-key [--json] [options]

Prints the co-signer's callback public key (RSA, PEM): give it to your Callback
Handler, which verifies the co-signer's signed requests with it. With --json, also
the Ed25519 identity key and X25519 agreement key registered at pairing (hex).

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
  const keys = await withCosigner(home, values, io.env, ({ store }) => ({
    callbackPublicKey: callbackPublicKeyPem(store),
    ...storedPublicKeys(store),
  }));
  io.stdout(
    values.json === true
      ? json({
          callbackPublicKey: keys.callbackPublicKey,
          identityKey: hex(keys.identityKey),
          agreementKey: hex(keys.agreementKey),
        })
      : keys.callbackPublicKey,
  );
  return ExitCode.OK;
}
