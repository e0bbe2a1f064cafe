/**
 * `cosigner backup <file>`: one file holding the whole store, still encrypted under the store's
 * data key, which stays wrapped by the KMS (docs/store.md, "Backup and restore"). Restoring needs
 * the same KMS key: for `local`, keep the key file and passphrase with the backup.
 */
import { parseArgs } from 'node:util';

import { backupStore } from '../../store/backup-store.js';
import { ExitCode } from '../exit-codes.js';
import { json } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, fileOperand, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner backup <file> [options]

Writes a consistent copy of the store to <file> (which must not exist) while the
co-signer may keep running. The copy is encrypted like the store; restoring it
needs the same KMS key (for --kms local: the key file and its passphrase).

Options:
${OPEN_HELP}
  --json                   print JSON`;

export async function backupCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...OPEN_FLAGS, json: { type: 'boolean' } },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const file = fileOperand(positionals);
  const home = cosignerHome(values.home, io.env);
  const result = await withCosigner(home, values, io.env, ({ store }) => backupStore(store, file));
  io.stdout(
    values.json === true
      ? json(result)
      : `Backup of store ${result.storeId} written to ${result.file} (${result.bytes} bytes)\n`,
  );
  return ExitCode.OK;
}
