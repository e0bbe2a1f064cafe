/**
 * Where CLI commands that call the API find their credentials: flags, then
 * environment (the same variable names the Fireblocks SDK examples use for
 * the key path), then the running `countersign dev` stack.
 */
import { readFileSync } from 'node:fs';
import { CountersignClient, createPemRequestSigner } from '@countersign/sdk';
import { readDevState } from './dev-state.js';
import { UsageError } from './exit-codes.js';

export const apiCredentialFlags = {
  'api-key': { type: 'string' },
  key: { type: 'string' },
  'base-url': { type: 'string' },
} as const;

export const apiCredentialHelp = `Credentials (default: the running 'countersign dev' stack):
  --api-key <uuid>     the API user's API key ($COUNTERSIGN_API_KEY)
  --key <file>         its RSA private key, PEM ($COUNTERSIGN_API_SECRET_PATH)
  --base-url <url>     platform URL ($COUNTERSIGN_BASE_URL; default http://127.0.0.1:8080)`;

export function apiClientFrom(values: {
  'api-key'?: string | undefined;
  key?: string | undefined;
  'base-url'?: string | undefined;
}): CountersignClient {
  const dev = readDevState();
  const apiKey = values['api-key'] ?? process.env['COUNTERSIGN_API_KEY'] ?? dev?.apiKey;
  const keyPath = values.key ?? process.env['COUNTERSIGN_API_SECRET_PATH'] ?? dev?.privateKeyPath;
  const baseUrl =
    values['base-url'] ??
    process.env['COUNTERSIGN_BASE_URL'] ??
    dev?.baseUrl ??
    'http://127.0.0.1:8080';
  if (!apiKey || !keyPath) {
    throw new UsageError(
      'no credentials: pass --api-key and --key (or start countersign dev first)',
    );
  }
  let pem: string;
  try {
    pem = readFileSync(keyPath, 'utf8');
  } catch {
    throw new UsageError(`cannot read the private key file ${keyPath}`);
  }
  return new CountersignClient({ baseUrl, apiKey, signer: createPemRequestSigner(pem) });
}
