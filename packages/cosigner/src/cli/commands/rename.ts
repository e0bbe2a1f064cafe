/**
 * `cosigner rename <name>`: the co-signer's name, here and in the platform's records (issue #5).
 * The platform is asked first (`PUT /cosigner/v1/name`, audited): if it refuses or cannot be
 * reached nothing changes here, so the two never disagree for long. A co-signer not registered
 * with a platform yet is renamed locally only. The name is kept in cosigner.json and the store.
 * @module
 */
import { parseArgs } from 'node:util';

import { PlatformCredentials, platformRegistration } from '../../platform/platform-credentials.js';
import { assertCosignerName, writeCosignerConfig } from '../config.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { json } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner rename <name> [--json] [options]

Renames this co-signer: in the platform's records (audited) first, then here.
If the platform refuses or cannot be reached, nothing is changed. The name is
1 to 100 printable characters without surrounding spaces.

Options:
${OPEN_HELP}
  --json                   print JSON

Exit codes: 0 done; 1 platform unreachable; 2 usage or a bad name; 3 store
locked; 5 the platform refused.`;

export async function renameCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...OPEN_FLAGS, json: { type: 'boolean' } },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const [name, ...extra] = positionals;
  if (name === undefined || extra.length > 0)
    throw new UsageError('expected: cosigner rename <name> (quote a name with spaces)');
  assertCosignerName(name);
  const home = cosignerHome(values.home, io.env);
  const outcome = await withCosigner(home, values, io.env, async ({ config, store }) => {
    let platform: 'renamed' | 'not registered' = 'not registered';
    if (platformRegistration(store) !== undefined) {
      const credentials = new PlatformCredentials(store);
      await credentials.client.rename(await credentials.accessToken(), name);
      platform = 'renamed';
    }
    store.setMeta('name', name);
    await writeCosignerConfig(home.configFile, { ...config, name }, { exclusive: false });
    return { from: config.name, platform };
  });
  if (values.json === true) io.stdout(json({ name, ...outcome }));
  else
    io.stdout(
      `Renamed ${outcome.from} to ${name}` +
        `${outcome.platform === 'renamed' ? ' (and on the platform)' : ''}\n`,
    );
  return ExitCode.OK;
}
