/**
 * The `cosigner` command: a dispatcher over the co-signer library. Commands load lazily so
 * `--help` starts fast and never loads native addons.
 * @module
 */
import { CosignerError } from '../errors.js';
import type { CosignerErrorCode } from '../errors.js';
import { COSIGNER_VERSION } from '../version.js';
import { ExitCode, UsageError } from './exit-codes.js';
import type { Command, CommandIo } from './io.js';

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  setup: {
    summary: 'create the KMS key, encrypted store, identity and configuration',
    load: async () => (await import('./commands/setup.js')).setupCommand,
  },
  pair: {
    summary: 'pair an API key with this co-signer (pairing token from an admin)',
    load: async () => (await import('./commands/pair.js')).pairCommand,
  },
  start: {
    summary:
      'run the co-signer: poll the platform for work and run it (--cloud for a Cloud Co-signer)',
    load: async () => (await import('./commands/start.js')).startCommand,
  },
  status: {
    summary: 'show name, mode, KMS, identity, paired API keys and share sets',
    load: async () => (await import('./commands/status.js')).statusCommand,
  },
  'print-public-key': {
    summary: 'print the callback public key for your Callback Handler (PEM)',
    load: async () => (await import('./commands/print-public-key.js')).printPublicKeyCommand,
  },
  callback: {
    summary: 'callback set|show|clear <apiKeyId>: the Callback Handler asked before signing',
    load: async () => (await import('./commands/callback.js')).callbackCommand,
  },
  unpair: {
    summary:
      "unpair <apiKeyId> --yes: stop serving an API key, destroy this co-signer's shares of it",
    load: async () => (await import('./commands/unpair.js')).unpairCommand,
  },
  rename: {
    summary: "rename <name>: this co-signer's name, here and on the platform",
    load: async () => (await import('./commands/rename.js')).renameCommand,
  },
  'api-keys': {
    summary: 'api-keys list: the API keys paired to this co-signer',
    load: async () => (await import('./commands/api-keys.js')).apiKeysCommand,
  },
  backup: {
    summary: 'write an encrypted backup of the store to a file',
    load: async () => (await import('./commands/backup.js')).backupCommand,
  },
  restore: {
    summary: 'restore a backup into a new home',
    load: async () => (await import('./commands/restore.js')).restoreCommand,
  },
};

export const mainHelp = `Countersign co-signer — holds one share of every MPC key and signs with the platform

Usage: cosigner <command> [options]     (cosigner <command> --help for details)

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(17)} ${c.summary}`)
  .join('\n')}

Exit codes: 0 success, 1 failure, 2 usage error, 3 store locked (wrong passphrase
or PIN, KMS refused or unreachable), 4 store or configuration missing, existing
or damaged, 5 the platform refused, 6 a pairing still waits for the Owner's approval
(setup and pair --timeout), 7 another daemon already runs on this store (start).`;

const LOCKED: readonly CosignerErrorCode[] = [
  'ERR_COSIGNER_DECRYPTION_FAILED',
  'ERR_COSIGNER_KMS_AUTH',
  'ERR_COSIGNER_KMS_REFUSED',
  'ERR_COSIGNER_KMS_UNAVAILABLE',
  'ERR_COSIGNER_KMS_KEY_MISMATCH',
  'ERR_COSIGNER_KMS_PROVIDER_MISMATCH',
  'ERR_COSIGNER_SECRET_MISSING',
];
const USAGE: readonly CosignerErrorCode[] = [
  'ERR_COSIGNER_INVALID_ARGUMENT',
  'ERR_COSIGNER_KMS_CONFIG',
];

/** The exit code of a failed command. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError || isParseArgsError(error)) return ExitCode.USAGE;
  if (error instanceof CosignerError) {
    if (LOCKED.includes(error.code)) return ExitCode.LOCKED;
    if (USAGE.includes(error.code)) return ExitCode.USAGE;
    if (PLATFORM.includes(error.code)) return ExitCode.PLATFORM;
    if (error.code === 'ERR_COSIGNER_PAIRING_TIMEOUT') return ExitCode.PENDING;
    if (error.code === 'ERR_COSIGNER_STORE_IN_USE') return ExitCode.IN_USE;
    if (error.code.startsWith('ERR_COSIGNER_STORE_') || STORE_CODES.includes(error.code)) {
      return ExitCode.STORE;
    }
  }
  return ExitCode.FAILURE;
}

const PLATFORM: readonly CosignerErrorCode[] = [
  'ERR_COSIGNER_PLATFORM_REFUSED',
  'ERR_COSIGNER_PLATFORM_RESPONSE',
  'ERR_COSIGNER_PLATFORM_KEY_CHANGED',
  'ERR_COSIGNER_PAIRING_REJECTED',
];

const STORE_CODES: readonly CosignerErrorCode[] = [
  'ERR_COSIGNER_NOT_PAIRED',
  'ERR_COSIGNER_CONFIG_INVALID',
  'ERR_COSIGNER_KEY_FILE_EXISTS',
  'ERR_COSIGNER_KEY_FILE_INVALID',
  'ERR_COSIGNER_BACKUP_INVALID',
  'ERR_COSIGNER_RESTORE_TARGET_NOT_EMPTY',
];

export async function main(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(mainHelp + '\n');
    return name === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`cosigner ${COSIGNER_VERSION}\n`);
    return ExitCode.OK;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr(`cosigner: unknown command '${name}'\n\n${mainHelp}\n`);
    return ExitCode.USAGE;
  }
  try {
    return await (
      await command.load()
    )(rest, io);
  } catch (error) {
    const code = exitCodeOf(error);
    io.stderr(
      `cosigner ${name}: ${describe(error)}\n` +
        (code === ExitCode.USAGE ? `See: cosigner ${name} --help\n` : ''),
    );
    return code;
  }
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/**
 * The message and its causes, without stack traces. Causes of a CosignerError are left out:
 * they may be a KMS or SQLite message that helps nobody at a terminal.
 */
function describe(error: unknown): string {
  if (error instanceof CosignerError) return error.message;
  const parts: string[] = [];
  let e: unknown = error;
  while (e instanceof Error && parts.length < 4) {
    parts.push(e.message);
    e = e.cause;
  }
  return parts.join(': ') || String(error);
}
