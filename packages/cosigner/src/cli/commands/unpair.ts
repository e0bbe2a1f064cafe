/**
 * `cosigner unpair <apiKeyId> --yes`: this co-signer stops serving an API key (issue #5;
 * ARCHITECTURE §3 "Unpair"). Local first, then the platform:
 *
 * 1. In one store transaction the pairing ends and this co-signer's shares of the API key's
 *    share sets are destroyed (store/unpair-api-key.ts) — irreversible, hence `--yes`. From
 *    then on no job of the API key gets anything here, whatever the platform says.
 * 2. The platform is told (`POST /cosigner/v1/api_keys/{id}/unpair`, audited), so it stops
 *    routing the API user's work here. If it cannot be reached, the local step stands and the
 *    error says to run the command again: it is repeatable.
 *
 * Doing it the other way round would leave a window in which the platform believes the key is
 * gone while this co-signer still holds a usable share.
 * @module
 */
import { parseArgs } from 'node:util';

import { CosignerError } from '../../errors.js';
import { PlatformCredentials, platformRegistration } from '../../platform/platform-credentials.js';
import type { CosignerStore } from '../../store/cosigner-store.js';
import { unpairApiKeyLocally } from '../../store/unpair-api-key.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { json, table } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner unpair <apiKeyId> --yes [--json] [options]

Stops serving an API key on this co-signer: ends its pairing, erases its
tokens, and destroys this co-signer's shares of the API key's share sets —
they cannot be brought back (the Cloud Co-signers' shares alone sign nothing).
Then tells the platform, which records the pairing as UNPAIRED (audited). If
the platform cannot be reached, run the command again: it is repeatable.

Without --yes nothing is changed: the command says what would be destroyed and
exits 2.

Options:
${OPEN_HELP}
  --yes                    confirm: destroy this co-signer's shares of the key
  --json                   print JSON

Exit codes: 0 done; 1 unknown API key or platform unreachable (the local part
is done then); 2 usage or no --yes; 3 store locked; 5 the platform refused.`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function unpairCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { ...OPEN_FLAGS, yes: { type: 'boolean' }, json: { type: 'boolean' } },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const [apiKeyId, ...extra] = positionals;
  if (apiKeyId === undefined || extra.length > 0)
    throw new UsageError('expected: cosigner unpair <apiKeyId> --yes');
  if (!UUID.test(apiKeyId)) throw new UsageError('apiKeyId must be an API key id (a UUID)');
  const home = cosignerHome(values.home, io.env);
  const outcome = await withCosigner(home, values, io.env, async ({ config, store }) => {
    if (config.mode === 'cloud')
      throw new UsageError('a Cloud Co-signer has no paired API keys to unpair');
    if (values.yes !== true) refuseWithoutConfirmation(store, apiKeyId);
    const local = unpairApiKeyLocally(store, apiKeyId);
    return { ...local, platform: await tellPlatform(store, apiKeyId) };
  });
  if (values.json === true) {
    io.stdout(json({ apiKeyId, ...outcome }));
  } else {
    io.stdout(
      `${outcome.alreadyUnpaired ? 'Was already unpaired' : 'Unpaired'}: ${apiKeyId}\n` +
        table([
          ['destroyed share sets', outcome.destroyedShareSets.join(', ') || 'none'],
          ['platform', outcome.platform === 'told' ? 'told (UNPAIRED)' : 'not registered'],
        ]),
    );
  }
  return ExitCode.OK;
}

/** Says what `--yes` would destroy; exit 2. */
function refuseWithoutConfirmation(store: CosignerStore, apiKeyId: string): never {
  const pairing = store.pairedApiKeys.getPairedApiKey(apiKeyId);
  if (pairing === undefined)
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `API key ${apiKeyId} was never paired to this co-signer`,
    });
  const sets = store.shareSets.listShareSets({ apiKeyId }).map((s) => s.id);
  throw new UsageError(
    `unpairing ${apiKeyId} destroys this co-signer's shares of ${sets.length} share set(s)` +
      `${sets.length === 0 ? '' : ` (${sets.join(', ')})`}, irreversibly; add --yes to do it`,
  );
}

async function tellPlatform(
  store: CosignerStore,
  apiKeyId: string,
): Promise<'told' | 'not registered'> {
  if (platformRegistration(store) === undefined) return 'not registered';
  try {
    const credentials = new PlatformCredentials(store);
    await credentials.client.unpairApiKey(await credentials.accessToken(), apiKeyId);
    return 'told';
  } catch (e) {
    if (!(e instanceof CosignerError)) throw e;
    throw new CosignerError(e.code, {
      detail:
        `${apiKeyId} is unpaired here and its shares are destroyed, but the platform was not ` +
        `told (${e.message}); run 'cosigner unpair ${apiKeyId} --yes' again`,
      cause: e,
      platformCode: e.platformCode,
    });
  }
}
