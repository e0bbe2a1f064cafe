/**
 * `cosigner setup`: creates the co-signer's home — its KMS key (where that is ours to create),
 * its encrypted store, its party identity — and its configuration file, last, so that an
 * interrupted setup never leaves a configuration that points at nothing.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

import { CosignerError } from '../../errors.js';
import { pairApiKey } from '../../platform/pairing.js';
import { parsePlatformUrl } from '../../platform/platform-client.js';
import { initStore } from '../../store/cosigner-store.js';
import { provisionStore } from '../../store/provision-store.js';
import { fsyncDirectory } from '../../store/store-files.js';
import type { CosignerConfig, CosignerMode } from '../config.js';
import { MAX_NAME_LENGTH, assertCosignerName, writeCosignerConfig } from '../config.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { hex, json, table } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import {
  KMS_FLAGS,
  KMS_HELP,
  SECRET_FLAGS,
  kmsConfigFromFlags,
  kmsWarnings,
  openKms,
} from '../kms-config.js';
import { withCosigner } from '../open-cosigner.js';
import {
  PAIRING_FLAGS,
  PAIRING_HELP,
  describePairing,
  pairingToken,
  pairingWait,
  platformUrl,
} from '../pairing-flags.js';
import { pathExists } from '../path-exists.js';
import { printedHelp } from './common-flags.js';

export const help = `Usage: cosigner setup --kms <provider> [--pairing-token <jwt> --platform-url <url>] [options]

Creates a co-signer: a KMS-wrapped data key, the encrypted store, the co-signer's
Ed25519/X25519 party identity and RSA callback key, and <home>/cosigner.json. Refuses a home that is
already set up. With a pairing token, then pairs it with the platform and waits
for the workspace Owner's approval (as cosigner pair does); if only the pairing
fails or is still pending, the co-signer stays set up.

Options:
  --home <dir>           co-signer home (default: $COSIGNER_HOME or ./.cosigner)
  --name <name>          name shown to workspace admins (default: this host's name)
  --cloud                set up a Cloud Co-signer (operator side) instead of an API co-signer
  --pkcs11-create-key    generate the AES key in the HSM (refused if the label exists)
  --json                 print the result as JSON

${KMS_HELP}

${PAIRING_HELP}`;

const STAGING_PREFIX = 'store.setup-';

export async function setupCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      home: { type: 'string' },
      name: { type: 'string' },
      cloud: { type: 'boolean' },
      'pkcs11-create-key': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...KMS_FLAGS,
      ...SECRET_FLAGS,
      ...PAIRING_FLAGS,
    },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const home = cosignerHome(values.home, io.env);
  const name = values.name ?? hostname().slice(0, MAX_NAME_LENGTH);
  assertCosignerName(name);
  const mode: CosignerMode = values.cloud === true ? 'cloud' : 'api';
  const kmsConfig = kmsConfigFromFlags(values, home);
  const token = await pairingToken(values, io.env);
  const wait = pairingWait(values, io);
  const platform = platformUrl(values, io.env);
  if (token !== undefined && platform === undefined) {
    throw new UsageError('pairing at setup needs --platform-url (or COSIGNER_PLATFORM_URL)');
  }
  if (platform !== undefined) parsePlatformUrl(platform);

  await mkdir(home.dir, { recursive: true, mode: 0o700 });
  if (await pathExists(home.configFile)) {
    throw new CosignerError('ERR_COSIGNER_STORE_EXISTS', {
      detail: `${home.dir} is already set up`,
    });
  }
  if (await pathExists(home.storeDir)) {
    throw new CosignerError('ERR_COSIGNER_STORE_EXISTS', {
      detail:
        `${home.storeDir} exists without ${basename(home.configFile)}: an earlier setup was ` +
        'interrupted after creating it, or it was restored without a configuration; move it away and run setup again',
    });
  }
  await removeStaleStaging(home.dir);

  // A local key file already at its path is kept and used, at the cost it names (docs/kms.md).
  const keyFileAdopted = kmsConfig.provider === 'local' && (await pathExists(kmsConfig.keyFile));
  const kms = await openKms(kmsConfig, values, io.env, {
    create: true,
    createHsmKey: values['pkcs11-create-key'] === true,
  });
  let result;
  try {
    // Build the store beside its final place and move it in whole: a crash leaves only a
    // staging directory, which the next setup removes.
    const staging = join(home.dir, `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`);
    const store = await initStore({ dir: staging, kms });
    try {
      const keys = await provisionStore(store, name, mode);
      result = {
        storeId: store.storeId,
        ...keys,
        kms: kms.describe(),
        warnings: kmsWarnings(kms),
      };
    } finally {
      store.close();
    }
    await rename(staging, home.storeDir);
    await fsyncDirectory(home.dir);
  } finally {
    await kms.close?.();
  }
  const config: CosignerConfig = { name, mode, kms: kmsConfig };
  await writeCosignerConfig(home.configFile, config, { exclusive: true });
  const pairing =
    token === undefined
      ? undefined
      : await withCosigner(home, values, io.env, ({ store }) =>
          pairApiKey(store, { pairingToken: token, platformUrl: platform, name, wait }),
        ).catch((e: unknown) => {
          throw new CosignerError(
            e instanceof CosignerError ? e.code : 'ERR_COSIGNER_PLATFORM_UNAVAILABLE',
            {
              detail: `the co-signer is set up in ${home.dir}, but pairing did not complete (${
                e instanceof Error ? e.message : String(e)
              }); ${setupPairingAdvice(e)}`,
            },
          );
        });

  for (const warning of result.warnings) io.stderr(`cosigner: warning: ${warning}\n`);
  if (values.json === true) {
    io.stdout(
      json({
        home: home.dir,
        name,
        mode,
        kms: result.kms,
        ...(kmsConfig.provider === 'local' ? { keyFileAdopted } : {}),
        warnings: result.warnings,
        storeId: result.storeId,
        identityKey: hex(result.identityKey),
        agreementKey: hex(result.agreementKey),
        ...(pairing === undefined ? {} : { pairing }),
      }),
    );
  } else {
    io.stdout(
      `Co-signer set up in ${home.dir}\n` +
        table([
          ['name', name],
          ['mode', mode === 'api' ? 'API co-signer' : 'Cloud Co-signer'],
          ['KMS', `${result.kms}${keyFileAdopted ? ', kept (it was there before setup)' : ''}`],
          ['store', result.storeId],
          ['identity key', hex(result.identityKey)],
        ]) +
        (pairing === undefined ? '' : `\n${describePairing(pairing, false)}`) +
        `\nNext: cosigner ${pairing === undefined ? 'pair --pairing-token <token from an admin> --platform-url <url>' : 'status'}${values.home === undefined ? '' : ` --home ${home.dir}`}\n`,
    );
  }
  return ExitCode.OK;
}

/** What to do when the pairing at setup did not complete. */
function setupPairingAdvice(e: unknown): string {
  const code = e instanceof CosignerError ? e.code : undefined;
  if (code === 'ERR_COSIGNER_PAIRING_TIMEOUT') return 'run cosigner pair to keep waiting';
  if (code === 'ERR_COSIGNER_PAIRING_REJECTED') {
    return 'ask an admin for a new pairing token and run cosigner pair';
  }
  // Asked, but its answer was lost: the pending pairing (if any) can be waited for again.
  return 'run cosigner pair (without a token) if the pairing was requested, else with a new token';
}

async function removeStaleStaging(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (entry.startsWith(STAGING_PREFIX))
      await rm(join(dir, entry), { recursive: true, force: true });
  }
}
