/**
 * The pairing flags shared by `setup` and `pair`. The pairing token is single-use and expires in
 * minutes, so `--pairing-token <jwt>` on the command line is accepted; a file or
 * `COSIGNER_PAIRING_TOKEN` keeps it out of the process list and shell history.
 * @module
 */
import type { PairOutcome } from '../platform/pairing.js';
import { UsageError } from './exit-codes.js';
import { json, table } from './format.js';
import { readSecretFile } from './secrets.js';

export const PAIRING_FLAGS = {
  'pairing-token': { type: 'string' },
  'pairing-token-file': { type: 'string' },
  'platform-url': { type: 'string' },
} as const;

export const PAIRING_HELP = `Pairing (an admin issues the token for a Signer or Admin API user):
  --pairing-token <jwt>     the token (or --pairing-token-file <f>, or COSIGNER_PAIRING_TOKEN)
  --platform-url <url>      the platform, e.g. https://countersign.example.com (or
                            COSIGNER_PLATFORM_URL); needed for the first pairing only`;

type Flags = Partial<Record<keyof typeof PAIRING_FLAGS, string>>;

/** The pairing token, if one was given. */
export async function pairingToken(
  flags: Flags,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string | undefined> {
  if (flags['pairing-token'] !== undefined && flags['pairing-token-file'] !== undefined) {
    throw new UsageError('give --pairing-token or --pairing-token-file, not both');
  }
  const file = flags['pairing-token-file'];
  const token =
    file !== undefined
      ? (await readSecretFile(file, 'pairing token')).trim()
      : (flags['pairing-token'] ?? env['COSIGNER_PAIRING_TOKEN']);
  if (token === '') throw new UsageError('the pairing token is empty');
  return token;
}

/** The platform URL from the flag or the environment. */
export function platformUrl(
  flags: Flags,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  return flags['platform-url'] ?? env['COSIGNER_PLATFORM_URL'];
}

/** How a pairing outcome is printed. */
export function describePairing(outcome: PairOutcome, asJson: boolean): string {
  if (asJson) return json(outcome);
  const rows = table([
    ['API key', outcome.apiKeyId],
    ['co-signer', outcome.cosignerId],
    ['platform', outcome.platformUrl],
    ...(outcome.requestId === undefined ? [] : [['approval request', outcome.requestId] as const]),
  ]);
  return outcome.status === 'PAIRED'
    ? `Paired.\n${rows}`
    : `Pairing requested; the workspace Owner must approve it.\n${rows}`;
}
