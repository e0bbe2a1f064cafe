/**
 * Secrets for unlocking the KMS key — the `local` passphrase, the PKCS#11 user PIN — never come
 * from the command line (it is visible to every local user in the process list). They come from
 * a file readable by its owner only (`--passphrase-file`, `COSIGNER_PASSPHRASE_FILE`; `--pin-file`,
 * `COSIGNER_PKCS11_PIN_FILE`) or from an environment variable (`COSIGNER_PASSPHRASE`,
 * `COSIGNER_PKCS11_PIN`) for process managers that inject secrets that way.
 * @module
 */
import { readFile, stat } from 'node:fs/promises';

import { CosignerError } from '../errors.js';

/** Names of one secret's sources. */
export interface SecretSource {
  /** What it is, for error messages. */
  readonly label: string;
  /** The file path given on the command line, if any. */
  readonly fileFlag: string | undefined;
  readonly fileEnv: string;
  readonly valueEnv: string;
}

/** The secret, from the first source that is set; ERR_COSIGNER_SECRET_MISSING if none is. */
export async function readSecret(
  source: SecretSource,
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  const file = source.fileFlag ?? env[source.fileEnv];
  if (file !== undefined && file !== '') return readSecretFile(file, source.label);
  const value = env[source.valueEnv];
  if (value !== undefined && value !== '') return value;
  throw new CosignerError('ERR_COSIGNER_SECRET_MISSING', {
    detail: `give the ${source.label} in a file (--${source.label === 'PIN' ? 'pin' : 'passphrase'}-file or ${source.fileEnv}) or in ${source.valueEnv}`,
  });
}

/** A secret from a file only its owner can read (one trailing newline dropped). */
export async function readSecretFile(file: string, label: string): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (e) {
    throw new CosignerError('ERR_COSIGNER_SECRET_MISSING', {
      detail: `cannot read the ${label} file ${file}`,
      cause: e,
    });
  }
  if ((mode & 0o077) !== 0) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `the ${label} file ${file} is readable by others; chmod 600 it`,
    });
  }
  // One trailing newline is the editor's, not the secret's.
  const content = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  if (content.length === 0) {
    throw new CosignerError('ERR_COSIGNER_SECRET_MISSING', {
      detail: `the ${label} file is empty`,
    });
  }
  return content;
}
