/**
 * `countersign csr`: a new RSA-4096 key and a PKCS#10 CSR (RFC 2986) for an
 * API user, equivalent to
 *   openssl req -new -newkey rsa:4096 -nodes -keyout api_private.key \
 *     -out api_user.csr -subj "/CN=<name>/O=<org>"
 * (PKCS#8 key, sha256WithRSAEncryption self-signature, UTF8String subject
 * values in CN, O order), with no dependency on an openssl install.
 *
 * The private key is created with mode 0600 and never overwritten unless
 * --force: losing the key behind a registered API user locks that user out.
 */
import { generateKeyPair, createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile, access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';

export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export const KEY_FILE = 'api_private.key';
export const CSR_FILE = 'api_user.csr';
const MODULUS_BITS = 4096;
/** X.520 upper bounds (ub-common-name, ub-organization-name). */
const MAX_NAME_LENGTH = 64;
const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATION = '2.5.4.10';
const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';

export const help = `Usage: countersign csr --name <CN> [--org <O>] [--out <dir>] [--force]

Create the RSA key and certificate signing request (CSR) of a new API user.

Writes two files into <dir>:
  ${KEY_FILE}   RSA 4096 private key (PKCS#8 PEM, mode 0600). It signs every
                    API request of the user: keep it secret, never upload it.
  ${CSR_FILE}      PKCS#10 CSR (PEM, SHA-256). Upload it when creating the API
                    user (console, or POST /v1/management/api_users csrPem).

Options:
  -n, --name <CN>   Common Name of the API user, e.g. treasury-bot (required)
  -o, --org <O>     Organization name (optional)
      --out <dir>   Directory to write into, created if missing (default: .)
      --force       Replace an existing ${KEY_FILE} (the old key is lost)
  -h, --help        Show this help

Same result as:
  openssl req -new -newkey rsa:4096 -nodes -keyout ${KEY_FILE} \\
    -out ${CSR_FILE} -subj "/CN=<CN>/O=<O>"

Exit status: 0 written, 1 failed (e.g. key exists), 2 bad usage.
`;

class UsageError extends Error {}
class CommandError extends Error {}

/** Runs `countersign csr`; resolves with the process exit code. */
export async function csrCommand(args: string[], io: CommandIo = processIo): Promise<number> {
  let options: CsrOptions;
  try {
    options = parseCsrArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`countersign csr: ${error.message}\nRun "countersign csr --help" for usage.\n`);
    return 2;
  }
  if (options.help) {
    io.stdout(help);
    return 0;
  }
  try {
    const result = await writeKeyAndCsr(options);
    io.stdout(
      `Wrote ${result.keyPath} (RSA ${MODULUS_BITS} private key, mode 0600): keep it secret.\n` +
        `Wrote ${result.csrPath} (subject ${result.subject}).\n` +
        `Public key SHA-256: ${result.publicKeySha256}\n` +
        `Next: create the API user with ${CSR_FILE}; sign its requests with ${KEY_FILE}.\n`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    io.stderr(`countersign csr: ${error.message}\n`);
    return 1;
  }
}

export interface CsrOptions {
  help: boolean;
  name: string;
  org: string | undefined;
  out: string;
  force: boolean;
}

function parseCsrArgs(args: string[]): CsrOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        name: { type: 'string', short: 'n' },
        org: { type: 'string', short: 'o' },
        out: { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    // parseArgs messages name the offending flag ("Unknown option '--bits'").
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { help: true, name: '', org: undefined, out: '.', force: false };
  if (values.name === undefined) throw new UsageError('--name <CN> is required');
  return {
    help: false,
    name: subjectValue('--name', values.name),
    org: values.org === undefined ? undefined : subjectValue('--org', values.org),
    out: values.out ?? '.',
    force: values.force,
  };
}

function subjectValue(flag: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw new UsageError(`${flag} must not be empty`);
  if ([...trimmed].length > MAX_NAME_LENGTH) {
    throw new UsageError(`${flag} must be at most ${MAX_NAME_LENGTH} characters`);
  }
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new UsageError(`${flag} must not contain control characters`);
  }
  return trimmed;
}

export interface CsrResult {
  keyPath: string;
  csrPath: string;
  subject: string;
  publicKeySha256: string;
}

/** Writes a new RSA-4096 key (0600) and its CSR into `options.out`; used by `csr` and `dev`. */
export async function writeKeyAndCsr(options: Omit<CsrOptions, 'help'>): Promise<CsrResult> {
  const dir = resolve(options.out);
  const keyPath = join(dir, KEY_FILE);
  const csrPath = join(dir, CSR_FILE);
  // Fail before spending seconds on key generation; the exclusive open below
  // is what actually guarantees no overwrite.
  if (!options.force && (await exists(keyPath))) throw keyExists(keyPath);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new CommandError(`cannot create ${dir}: ${describe(cause)}`);
  }

  const { privateKey, publicKey } = await rsaKeyPair(MODULUS_BITS);
  const subject: [string, string][] = [[OID_COMMON_NAME, options.name]];
  if (options.org !== undefined) subject.push([OID_ORGANIZATION, options.org]);
  const csrPem = buildCsrPem(subject, privateKey, publicKey);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  await writePrivateKey(keyPath, keyPem, options.force);
  try {
    await writeFile(csrPath, csrPem, { mode: 0o644 });
  } catch (cause) {
    throw new CommandError(`wrote ${keyPath} but cannot write ${csrPath}: ${describe(cause)}`);
  }
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    keyPath,
    csrPath,
    subject: subject
      .map(([oid, value]) => `${oid === OID_COMMON_NAME ? 'CN' : 'O'}=${value}`)
      .join(', '),
    publicKeySha256: createHash('sha256').update(spki).digest('hex'),
  };
}

function rsaKeyPair(bits: number): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  return new Promise((resolvePair, reject) => {
    generateKeyPair(
      'rsa',
      { modulusLength: bits, publicExponent: 0x10001 },
      (error, publicKey, privateKey) => {
        if (error) reject(new CommandError(`RSA key generation failed: ${error.message}`));
        else resolvePair({ privateKey, publicKey });
      },
    );
  });
}

/** RFC 2986 §4: sign the DER CertificationRequestInfo, wrap it with the algorithm and signature. */
function buildCsrPem(
  subject: [string, string][],
  privateKey: KeyObject,
  publicKey: KeyObject,
): string {
  const info = new CertificationRequestInfo({
    version: 0,
    subject: new Name(
      subject.map(
        ([type, value]) =>
          new RelativeDistinguishedName([
            new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
          ]),
      ),
    ),
    subjectPKInfo: AsnConvert.parse(
      publicKey.export({ type: 'spki', format: 'der' }),
      SubjectPublicKeyInfo,
    ),
  });
  const signature = sign('sha256', Buffer.from(AsnConvert.serialize(info)), privateKey);
  const request = new CertificationRequest({
    certificationRequestInfo: info,
    // RFC 4055 §5: the parameters of sha256WithRSAEncryption are an explicit NULL.
    signatureAlgorithm: new AlgorithmIdentifier({
      algorithm: OID_SHA256_WITH_RSA,
      parameters: null,
    }),
    signature: new Uint8Array(signature).buffer,
  });
  const base64 = Buffer.from(AsnConvert.serialize(request)).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

/**
 * Created 0600 from the first byte (never chmod-ed after the fact). Without
 * --force the exclusive flag makes an existing key a hard error; with it the
 * key goes to a fresh temporary file that is renamed over the old one, so a
 * crash never leaves a half-written key.
 */
async function writePrivateKey(path: string, pem: string, force: boolean): Promise<void> {
  const target = force ? `${path}.${randomBytes(6).toString('hex')}.tmp` : path;
  let file;
  try {
    file = await open(target, 'wx', 0o600);
  } catch (cause) {
    if (!force && isErrno(cause, 'EEXIST')) throw keyExists(path);
    throw new CommandError(`cannot create ${target}: ${describe(cause)}`);
  }
  try {
    await file.writeFile(pem);
    await file.sync();
  } catch (cause) {
    await file.close();
    await rm(target, { force: true });
    throw new CommandError(`cannot write ${target}: ${describe(cause)}`);
  }
  await file.close();
  if (force) {
    try {
      await rename(target, path);
    } catch (cause) {
      await rm(target, { force: true });
      throw new CommandError(`cannot replace ${path}: ${describe(cause)}`);
    }
  }
}

function keyExists(path: string): CommandError {
  return new CommandError(
    `${path} already exists; refusing to overwrite a private key (use --force to replace it)`,
  );
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
