/**
 * Where CLI commands that call the API find their credentials — API key,
 * private key file and base URL — always all three from ONE source:
 *
 * 1. explicit: flags, else environment (the same variable names the
 *    Fireblocks SDK examples use for the key path). As soon as any of the
 *    three is given this way, all come from here: the API key and key file
 *    are required, the base URL defaults to http://127.0.0.1:8080, and the
 *    dev state is not read at all;
 * 2. otherwise the running `countersign dev` stack: API key and base URL from
 *    <home>/dev/state.json, the key from <home>/dev/api_private.key.
 *
 * Never mixed: a checkout's .countersign/dev/state.json is just a file in a
 * directory someone else may have written, so it must not be able to send a
 * request signed with a key given on the command line to a URL of its
 * choosing. For the same reason the dev key is only ever the dev directory's
 * own regular file (no symbolic link, whatever path state.json names), so a
 * planted state.json cannot make the CLI sign with some other key on disk.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CountersignClient, createPemRequestSigner } from '@countersign/sdk';
import { KEY_FILE } from './commands/csr.js';
import { devDir, readDevState } from './dev-state.js';
import { UsageError } from './exit-codes.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

export const apiCredentialFlags = {
  'api-key': { type: 'string' },
  key: { type: 'string' },
  'base-url': { type: 'string' },
} as const;

export const apiCredentialHelp = `Credentials: all from flags/environment, or else all from the running
'countersign dev' stack (.countersign/dev/; $COUNTERSIGN_HOME), never mixed.
  --api-key <uuid>     the API user's API key ($COUNTERSIGN_API_KEY)
  --key <file>         its RSA private key, PEM ($COUNTERSIGN_API_SECRET_PATH)
  --base-url <url>     platform URL ($COUNTERSIGN_BASE_URL; default ${DEFAULT_BASE_URL})`;

export interface ApiCredentials {
  source: 'explicit' | 'dev';
  apiKey: string;
  keyPath: string;
  baseUrl: string;
}

/** Resolves the credentials as described above; UsageError when they are incomplete. */
export function resolveApiCredentials(
  values: {
    'api-key'?: string | undefined;
    key?: string | undefined;
    'base-url'?: string | undefined;
  },
  env: NodeJS.ProcessEnv = process.env,
): ApiCredentials {
  const given = (flag: string | undefined, variable: string): string | undefined =>
    nonEmpty(flag) ?? nonEmpty(env[variable]);
  const apiKey = given(values['api-key'], 'COUNTERSIGN_API_KEY');
  const keyPath = given(values.key, 'COUNTERSIGN_API_SECRET_PATH');
  const baseUrl = given(values['base-url'], 'COUNTERSIGN_BASE_URL');

  if (apiKey !== undefined || keyPath !== undefined || baseUrl !== undefined) {
    if (apiKey === undefined || keyPath === undefined) {
      throw new UsageError(
        `${apiKey === undefined ? '--api-key ($COUNTERSIGN_API_KEY)' : '--key ($COUNTERSIGN_API_SECRET_PATH)'} is missing: ` +
          'when any of --api-key, --key or --base-url (or their environment variables) is given, ' +
          'the API key and key file must both be given too; the countersign dev state is not mixed in',
      );
    }
    return { source: 'explicit', apiKey, keyPath, baseUrl: baseUrl ?? DEFAULT_BASE_URL };
  }

  const home = nonEmpty(env['COUNTERSIGN_HOME']);
  const root = home ?? '.countersign';
  const dev = readDevState(root);
  if (dev === undefined) {
    throw new UsageError(
      'no credentials: pass --api-key and --key (and --base-url), or start countersign dev first',
    );
  }
  if (dev.baseUrl === undefined) {
    throw new UsageError(
      `${join(devDir(root), 'state.json')} has no base URL: start countersign dev (or pass --api-key, --key and --base-url)`,
    );
  }
  const devKeyPath = join(devDir(root), KEY_FILE);
  // $COUNTERSIGN_HOME is the user's choice; the default .countersign comes with the checkout.
  const untrusted = [...(home === undefined ? [root] : []), devDir(root), devKeyPath];
  const link = untrusted.find(isSymbolicLink);
  if (link !== undefined) {
    throw new UsageError(
      `${link} is a symbolic link: refusing to sign with the key it leads to; pass --api-key, --key and --base-url`,
    );
  }
  return { source: 'dev', apiKey: dev.apiKey, keyPath: devKeyPath, baseUrl: dev.baseUrl };
}

export function apiClientFrom(values: {
  'api-key'?: string | undefined;
  key?: string | undefined;
  'base-url'?: string | undefined;
}): CountersignClient {
  const { apiKey, keyPath, baseUrl } = resolveApiCredentials(values);
  let pem: string;
  try {
    pem = readFileSync(keyPath, 'utf8');
  } catch {
    throw new UsageError(`cannot read the private key file ${keyPath}`);
  }
  return new CountersignClient({ baseUrl, apiKey, signer: createPemRequestSigner(pem) });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isSymbolicLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
