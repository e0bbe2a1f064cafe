/** `cosigner api-keys list`: the API users paired to this co-signer. */
import { parseArgs } from 'node:util';

import { ExitCode, UsageError } from '../exit-codes.js';
import { json } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner api-keys list [--all] [--json] [options]

Lists the API keys paired to this co-signer: API key, co-signer id, platform,
pairing time. --all includes unpaired ones (kept as a record without tokens).

Options:
${OPEN_HELP}
  --all                    include unpaired API keys
  --json                   print JSON`;

export async function apiKeysCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...OPEN_FLAGS, all: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  if (positionals.length !== 1 || positionals[0] !== 'list') {
    throw new UsageError('expected: cosigner api-keys list');
  }
  const home = cosignerHome(values.home, io.env);
  const keys = await withCosigner(home, values, io.env, ({ store }) =>
    store.pairedApiKeys.listPairedApiKeys({ includeUnpaired: values.all === true }).map((p) => ({
      apiKeyId: p.apiKeyId,
      cosignerId: p.cosignerId,
      platformUrl: p.platformUrl,
      pairedAt: new Date(p.pairedAt).toISOString(),
      unpairedAt: p.unpairedAt === null ? null : new Date(p.unpairedAt).toISOString(),
    })),
  );
  if (values.json === true) {
    io.stdout(json(keys));
  } else if (keys.length === 0) {
    io.stdout('No paired API keys.\n');
  } else {
    for (const k of keys) {
      io.stdout(
        `${k.apiKeyId}  co-signer ${k.cosignerId}  ${k.platformUrl}  paired ${k.pairedAt}` +
          `${k.unpairedAt === null ? '' : `  unpaired ${k.unpairedAt}`}\n`,
      );
    }
  }
  return ExitCode.OK;
}
