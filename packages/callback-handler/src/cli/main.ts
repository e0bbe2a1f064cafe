/**
 * `countersign-callback`: the reference Callback Handler (`serve`), and its helpers (`keygen`,
 * `check-rules`, `pin`). Errors print one line naming the file and field; exit codes below.
 * @module
 */
import { generateKeyPair } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';

import {
  loadRsaPrivateKey,
  loadRsaPublicKey,
  spkiSha256FromCertificatePem,
} from '@countersign/protocol/callback-auth';

import { CallbackHandlerError } from '../errors.js';
import { createNodeRequestListener } from '../node-adapter.js';
import { AuditLog, verifyAuditLog } from '../reference/audit-log.js';
import { createReferenceHandler } from '../reference/reference-handler.js';
import { loadRulesFile } from '../reference/rules-file.js';
import { VelocityStore } from '../reference/velocity-store.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); for `serve`. */
  stopSignal?: Promise<void>;
}

export const ExitCode = {
  OK: 0,
  /** Runtime failure: I/O, port in use, an unexpected error. */
  FAILURE: 1,
  /** Wrong command line. */
  USAGE: 2,
  /** Invalid configuration: rules file, key, certificate, damaged state file. */
  CONFIG: 3,
  /** verify-audit: the audit log's hash chain is broken (a line edited, removed or moved). */
  AUDIT_BROKEN: 4,
} as const;

export const HELP = `countersign-callback — reference Callback Handler for Countersign API co-signers

Usage:
  countersign-callback serve --rules FILE --state-dir DIR --audit-log FILE
                             (--cosigner-public-key FILE --private-key FILE | --pinned-tls)
                             [--tls-cert FILE --tls-key FILE] [--listen HOST:PORT]
                             [--path-prefix /PATH] [--allow-missing-timestamps]
  countersign-callback check-rules FILE
  countersign-callback keygen --out DIR [--bits 3072]
  countersign-callback pin CERT.pem
  countersign-callback verify-audit FILE
  countersign-callback --help

Commands:
  serve        answer POST {prefix}/v2/tx_sign_request and /v2/config_change_sign_request
               by the rules file. JWT mode (default): requests must be RS256 JWTs signed by
               the co-signer key (cosigner print-public-key); answers are signed with
               --private-key. --pinned-tls: plain JSON, requires --tls-cert/--tls-key; give
               the co-signer the certificate (or its pin, see "pin").
               Every request and decision is appended to --audit-log (JSON lines, fsynced);
               approved amounts are kept in --state-dir so a restart keeps velocity windows.
               --listen defaults to 127.0.0.1:8443; port 0 picks a free port. The address is
               printed as "listening on URL". SIGINT/SIGTERM stop it cleanly.
  check-rules  validate a rules file and print a summary (exit 3 naming the bad field).
  keygen       create the handler's RSA key pair in DIR: handler-private.pem (mode 0600)
               and handler-public.pem (give this one to the co-signer). Refuses to overwrite.
               Same as: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072
  pin          print the SHA-256 of a certificate's public key (SPKI), hex.
  verify-audit check the audit log's hash chain (each line carries the SHA-256 of the
               previous one): exit 0 intact, 4 naming the first line that does not chain.

Options of serve: --allow-missing-timestamps accepts request tokens without iat/exp
(Countersign co-signers always send them).

Exit codes: 0 success, 1 failure (I/O, port in use), 2 usage error,
3 invalid configuration (rules file, key, certificate, damaged state file),
4 audit log hash chain broken (verify-audit).

Rules file format: see the package README (packages/callback-handler/README.md).`;

class UsageError extends Error {}

export async function main(args: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(HELP + '\n');
        return command === undefined ? ExitCode.USAGE : ExitCode.OK;
      case 'serve':
        return await serve(rest, io);
      case 'check-rules':
        return await checkRules(rest, io);
      case 'keygen':
        return await keygen(rest, io);
      case 'pin':
        return await pin(rest, io);
      case 'verify-audit':
        return await verifyAudit(rest, io);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: CliIo): number {
  if (error instanceof UsageError || isParseArgsError(error)) {
    io.stderr(
      `countersign-callback: ${(error as Error).message}\nSee countersign-callback --help\n`,
    );
    return ExitCode.USAGE;
  }
  if (error instanceof CallbackHandlerError) {
    io.stderr(`countersign-callback: ${error.message}\n`);
    return [
      'ERR_CALLBACK_RULES_INVALID',
      'ERR_CALLBACK_INVALID_KEY',
      'ERR_CALLBACK_STATE',
    ].includes(error.code)
      ? ExitCode.CONFIG
      : ExitCode.FAILURE;
  }
  io.stderr(`countersign-callback: ${error instanceof Error ? error.message : String(error)}\n`);
  return ExitCode.FAILURE;
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

async function serve(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      rules: { type: 'string' },
      'state-dir': { type: 'string' },
      'audit-log': { type: 'string' },
      'cosigner-public-key': { type: 'string' },
      'private-key': { type: 'string' },
      'pinned-tls': { type: 'boolean' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      listen: { type: 'string', default: '127.0.0.1:8443' },
      'path-prefix': { type: 'string' },
      'allow-missing-timestamps': { type: 'boolean' },
    },
  });
  const need = (name: keyof typeof values): string => {
    const value = values[name];
    if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
    return value;
  };
  const rulesPath = need('rules');
  const stateDir = need('state-dir');
  const auditPath = need('audit-log');
  const pinned = values['pinned-tls'] === true;
  if (
    pinned &&
    (values['cosigner-public-key'] !== undefined || values['private-key'] !== undefined)
  ) {
    throw new UsageError('--pinned-tls takes no JWT keys');
  }
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  if (pinned && values['tls-cert'] === undefined) {
    throw new UsageError('--pinned-tls requires --tls-cert and --tls-key');
  }
  const { host, port } = parseListen(values.listen ?? '');

  const rules = await loadRulesFile(rulesPath);
  const mode = pinned
    ? ({ type: 'pinned-tls' } as const)
    : ({
        type: 'jwt',
        cosignerPublicKey: loadRsaPublicKey(
          await readConfigFile(need('cosigner-public-key'), 'co-signer public key'),
          `--cosigner-public-key`,
        ),
        handlerPrivateKey: loadRsaPrivateKey(
          await readSecretFile(need('private-key')),
          '--private-key',
        ),
        requireTimestamps: values['allow-missing-timestamps'] !== true,
      } as const);
  const tls =
    values['tls-cert'] === undefined
      ? undefined
      : {
          cert: await readConfigFile(values['tls-cert'], 'TLS certificate'),
          key: await readSecretFile(values['tls-key']!),
        };
  const velocity = await VelocityStore.open(stateDir);
  const audit = await AuditLog.open(auditPath);
  const handler = createReferenceHandler({ mode, rules, velocity, audit });
  const listener = createNodeRequestListener(handler, { pathPrefix: values['path-prefix'] ?? '' });
  const server: Server =
    tls === undefined ? createHttpServer(listener) : httpsServer(tls, listener);
  // The co-signer gives up after 30 s; a client slower than that is not the co-signer.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostText = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  io.stdout(
    `listening on ${tls === undefined ? 'http' : 'https'}://${hostText}:${address.port}${values['path-prefix'] ?? ''} (${mode.type} mode)\n`,
  );
  if (tls === undefined) {
    io.stderr('warning: plain HTTP; use --tls-cert/--tls-key outside a test setup\n');
  }
  await (io.stopSignal ?? stopSignal());
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await audit.close();
  return ExitCode.OK;
}

/** An HTTPS server, or exit 3: OpenSSL's message says what is wrong, never what the key is. */
function httpsServer(tls: { cert: string; key: string }, listener: RequestListener): Server {
  try {
    return createHttpsServer(tls, listener);
  } catch (error) {
    throw new CallbackHandlerError(
      'ERR_CALLBACK_INVALID_KEY',
      `--tls-cert/--tls-key: not a usable certificate and key (${(error as Error).message})`,
    );
  }
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

function parseListen(text: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || port > 65535) throw new UsageError('--listen must be HOST:PORT');
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

async function readConfigFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CallbackHandlerError(
      'ERR_CALLBACK_INVALID_KEY',
      `${what} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/** A private key file must not be readable by group or others (like ssh). */
async function readSecretFile(path: string): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    throw new CallbackHandlerError(
      'ERR_CALLBACK_INVALID_KEY',
      `${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new CallbackHandlerError(
      'ERR_CALLBACK_INVALID_KEY',
      `${path}: private key readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`,
    );
  }
  return readConfigFile(path, 'private key');
}

async function checkRules(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('check-rules takes one FILE');
  const rules = await loadRulesFile(positionals[0]!);
  const assets = Object.keys(rules.source.assets);
  io.stdout(
    `${positionals[0]}: valid — default ${rules.source.defaultAction}, operations ${rules.operations.join(',')}, ` +
      `${assets.length} asset rule(s)${assets.length > 0 ? ` (${assets.join(', ')})` : ''}, ` +
      `${rules.source.denylist?.length ?? 0} denylist entr(ies), business hours ${rules.source.businessHours === undefined ? 'off' : rules.source.businessHours.timeZone}\n`,
  );
  return ExitCode.OK;
}

async function keygen(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { out: { type: 'string' }, bits: { type: 'string', default: '3072' } },
  });
  if (values.out === undefined) throw new UsageError('--out DIR is required');
  const bits = Number(values.bits);
  if (![2048, 3072, 4096].includes(bits)) throw new UsageError('--bits must be 2048, 3072 or 4096');
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: bits,
  });
  const privatePath = join(values.out, 'handler-private.pem');
  const publicPath = join(values.out, 'handler-public.pem');
  try {
    // 'wx': never overwrite a key that a co-signer may already trust.
    await writeFile(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      flag: 'wx',
      mode: 0o600,
    });
    await writeFile(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), {
      flag: 'wx',
      mode: 0o644,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'EEXIST'
        ? `${values.out}: a handler key already exists (not overwritten)`
        : `${values.out}: cannot write (${code ?? 'error'})`,
    );
  }
  io.stdout(
    `wrote ${privatePath} (0600) and ${publicPath}; configure the co-signer with the public key\n`,
  );
  return ExitCode.OK;
}

async function pin(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('pin takes one CERT.pem');
  const pem = await readConfigFile(positionals[0]!, 'certificate');
  io.stdout(spkiSha256FromCertificatePem(pem) + '\n');
  return ExitCode.OK;
}

async function verifyAudit(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} });
  if (positionals.length !== 1) throw new UsageError('verify-audit takes one FILE');
  const result = await verifyAuditLog(positionals[0]!);
  if (result.brokenAt !== undefined) {
    io.stderr(`${positionals[0]}: hash chain broken at line ${result.brokenAt}\n`);
    return ExitCode.AUDIT_BROKEN;
  }
  io.stdout(`${positionals[0]}: ${result.lines} line(s), hash chain intact\n`);
  return ExitCode.OK;
}
