/**
 * The pairing flags shared by `setup` and `pair`. The pairing token is single-use and expires in
 * minutes, so `--pairing-token <jwt>` on the command line is accepted; a file or
 * `COSIGNER_PAIRING_TOKEN` keeps it out of the process list and shell history.
 * @module
 */
import type { PairOutcome, PairingWait } from '../platform/pairing.js';
import { UsageError } from './exit-codes.js';
import type { CommandIo } from './io.js';
import { json, table } from './format.js';
import { readSecretFile } from './secrets.js';

export const PAIRING_FLAGS = {
  'pairing-token': { type: 'string' },
  'pairing-token-file': { type: 'string' },
  'platform-url': { type: 'string' },
  timeout: { type: 'string' },
  'no-wait': { type: 'boolean' },
} as const;

export const PAIRING_HELP = `Pairing (an admin issues the token for a Signer or Admin API user):
  --pairing-token <jwt>     the token (or --pairing-token-file <f>, or COSIGNER_PAIRING_TOKEN)
  --platform-url <url>      the platform, e.g. https://countersign.example.com (or
                            COSIGNER_PLATFORM_URL); needed for the first pairing only
  --timeout <seconds>       how long to wait for the workspace Owner's approval
                            (default 900); the pairing stays pending after that (exit 6)
  --no-wait                 ask for the pairing and return; wait later with cosigner pair

Every pairing waits for the workspace Owner's approval. Give the Owner the identity
fingerprint printed here: the approval request shows the same one.`;

type Flags = Partial<Record<'pairing-token' | 'pairing-token-file' | 'platform-url', string>>;

const DEFAULT_TIMEOUT_SECONDS = 900;

/** How to wait for the Owner (undefined with --no-wait): progress on stderr. */
export function pairingWait(
  flags: { timeout?: string | undefined; 'no-wait'?: boolean | undefined },
  io: CommandIo,
): PairingWait | undefined {
  if (flags['no-wait'] === true) {
    if (flags.timeout !== undefined) throw new UsageError('give --timeout or --no-wait, not both');
    return undefined;
  }
  const seconds =
    flags.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS : Number.parseInt(flags.timeout, 10);
  if (!/^\d{1,7}$/.test(flags.timeout ?? '0') || !Number.isSafeInteger(seconds)) {
    throw new UsageError('--timeout takes a whole number of seconds');
  }
  let lastReport = 0;
  return {
    timeoutMs: seconds * 1000,
    onWaiting: (p) =>
      io.stderr(
        `Pairing requested (approval request ${p.requestId}).\n` +
          `Identity fingerprint: ${p.identityFingerprint}\n` +
          `Waiting for Owner approval (up to ${seconds} s): the workspace Owner must approve it, after checking that the request shows this fingerprint.\n`,
      ),
    onProgress: (waitedMs, unreachable) => {
      // A line every 30 s or so, not one per poll.
      if (waitedMs - lastReport < 30_000) return;
      lastReport = waitedMs;
      io.stderr(
        `… still waiting for Owner approval (${Math.round(waitedMs / 1000)} s${unreachable ? ', platform unreachable' : ''})\n`,
      );
    },
  };
}

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
    ...(outcome.identityFingerprint === undefined
      ? []
      : [['identity fingerprint', outcome.identityFingerprint] as const]),
  ]);
  return outcome.status === 'PAIRED'
    ? `Paired.\n${rows}`
    : `Pairing requested; the workspace Owner must approve it (wait with: cosigner pair).\n${rows}`;
}
