/** Flags every command that opens an existing co-signer takes. */
import { UsageError } from '../exit-codes.js';
import type { CommandIo } from '../io.js';
import { SECRET_FLAGS } from '../kms-config.js';

export const OPEN_FLAGS = {
  home: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...SECRET_FLAGS,
} as const;

export const OPEN_HELP = `  --home <dir>             co-signer home (default: $COSIGNER_HOME or ./.cosigner)
  --passphrase-file <f>    local KMS passphrase file (or COSIGNER_PASSPHRASE_FILE /
                           COSIGNER_PASSPHRASE)
  --pin-file <f>           PKCS#11 PIN file (or COSIGNER_PKCS11_PIN_FILE / COSIGNER_PKCS11_PIN)`;

/** Prints `help` when `--help` was given; the command then returns {@link ExitCode.OK}. */
export function printedHelp(values: { help?: boolean }, help: string, io: CommandIo): boolean {
  if (values.help !== true) return false;
  io.stdout(help + '\n');
  return true;
}

/** The single file operand of `backup` and `restore`. */
export function fileOperand(positionals: string[]): string {
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) throw new UsageError('expected one backup file');
  return file;
}
