/**
 * `cosigner restore <file>`: a backup into a new home (a new machine). Presignatures that were
 * available at backup time are discarded and saved protocol states dropped, so nothing the old
 * co-signer may have used after the backup can be used again (docs/store.md); the pool refills.
 * What else a restore closes (review M3) is in store/restore-store.ts.
 */
import { mkdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { CosignerError } from '../../errors.js';
import { openStore } from '../../store/cosigner-store.js';
import { restoreStore } from '../../store/restore-store.js';
import type { CosignerMode } from '../config.js';
import { assertCosignerName, writeCosignerConfig } from '../config.js';
import { ExitCode } from '../exit-codes.js';
import { json, table } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { KMS_FLAGS, KMS_HELP, kmsConfigFromFlags, openKms } from '../kms-config.js';
import { pathExists } from '../path-exists.js';
import { OPEN_FLAGS, OPEN_HELP, fileOperand, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner restore <file> --kms <provider> [options]

Restores a backup into a home that is not set up yet, and writes its
cosigner.json. Give the KMS key that wrapped the backup's data key. Available
presignatures are discarded (spent markers are kept) and saved MPC session
states dropped, so a restored co-signer never reuses one. Messages that were
being signed at backup time are refused a fresh session (their share may have
been released since), and every ECDSA share set's OT setups are marked
destroyed: ECDSA signing waits for a refresh of the share set.

Options:
${OPEN_HELP}
  --json                   print JSON

${KMS_HELP}`;

export async function restoreCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...OPEN_FLAGS, ...KMS_FLAGS, json: { type: 'boolean' } },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const file = fileOperand(positionals);
  const home = cosignerHome(values.home, io.env);
  const kmsConfig = kmsConfigFromFlags(values, home);
  await mkdir(home.dir, { recursive: true, mode: 0o700 });
  if (await pathExists(home.configFile)) {
    throw new CosignerError('ERR_COSIGNER_STORE_EXISTS', {
      detail: `${home.dir} is already set up; restore into a new --home`,
    });
  }
  const kms = await openKms(kmsConfig, values, io.env);
  let restored;
  let name: string | undefined;
  let mode: string | undefined;
  try {
    restored = await restoreStore(file, { dir: home.storeDir, kms });
    const store = await openStore({ dir: home.storeDir, kms });
    try {
      name = store.getMeta('name');
      mode = store.getMeta('mode');
    } finally {
      store.close();
    }
  } finally {
    await kms.close?.();
  }
  assertCosignerName(name);
  if (mode !== 'api' && mode !== 'cloud') {
    throw new CosignerError('ERR_COSIGNER_STORE_CORRUPT', { detail: 'mode' });
  }
  await writeCosignerConfig(
    home.configFile,
    { name, mode: mode satisfies CosignerMode, kms: kmsConfig },
    { exclusive: true },
  );
  if (values.json === true) {
    io.stdout(json({ home: home.dir, name, mode, ...restored }));
  } else {
    io.stdout(
      `Restored store ${restored.storeId} into ${home.dir}\n` +
        table([
          ['name', name],
          ['discarded presignatures', String(restored.discardedPresignatures)],
          ['dropped session states', String(restored.discardedProtocolStates)],
          ['messages refused a fresh session', String(restored.signingRecordsClosed)],
          ['ECDSA share sets needing a refresh', String(restored.dkls23ShareSetsNeedingRefresh)],
        ]),
    );
  }
  return ExitCode.OK;
}
