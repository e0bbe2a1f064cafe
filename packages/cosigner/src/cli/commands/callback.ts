/**
 * `cosigner callback set|show|clear <apiKeyId>`: the Callback Handler of one paired API user
 * (ARCHITECTURE.md §7). Settings are checked before the store is opened — https URL (plain http
 * only to a loopback literal), an RSA ≥ 2048 public key or one X.509 certificate — so a wrong
 * file fails at once with exit 2. Signing jobs read the settings before and after every ask: a
 * change applies at once, and requests waiting on the old settings fail (CALLBACK_CONFIG_CHANGED).
 * @module
 */
import { createHash, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import {
  canonicalCallbackHandler,
  parseCallbackHandler,
  type StoredCallbackHandler,
} from '../../callback/callback-handler-config.js';
import { CosignerError } from '../../errors.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { json, table } from '../format.js';
import { cosignerHome } from '../home.js';
import type { CommandIo } from '../io.js';
import { withCosigner } from '../open-cosigner.js';
import { OPEN_FLAGS, OPEN_HELP, printedHelp } from './common-flags.js';

export const help = `Usage: cosigner callback set <apiKeyId> --url <url> (--public-key <pem> | --cert <pem>)
       cosigner callback show <apiKeyId> [--json]
       cosigner callback clear <apiKeyId>

The Callback Handler the co-signer asks before it signs or approves anything for
this API key. Without one, its requests are signed automatically.

  --public-key <file>  JWT mode: the handler's RSA public key (PEM, >= 2048 bits)
                       that signs its answers; requests are signed with the key of
                       'cosigner print-public-key'
  --cert <file>        pinned-TLS mode: the handler's TLS certificate (PEM); only
                       a server with this certificate's key is talked to
  --url <url>          https://…; plain http only to 127.0.0.1 or [::1] in JWT
                       mode (a handler on this machine)

Options:
${OPEN_HELP}
  --json                   show: print JSON

Exit codes: 0 done, 1 the API key is not paired here, 2 bad command line, URL,
key or certificate, 3 store locked, 4 store missing.`;

/** Longest PEM file read: a key or a certificate is a few KiB. */
const MAX_PEM_FILE_BYTES = 16 * 1024;

export async function callbackCommand(args: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      ...OPEN_FLAGS,
      url: { type: 'string' },
      'public-key': { type: 'string' },
      cert: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (printedHelp(values, help, io)) return ExitCode.OK;
  const [action, apiKeyId, ...extra] = positionals;
  if (apiKeyId === undefined || extra.length > 0) {
    throw new UsageError('expected: cosigner callback set|show|clear <apiKeyId>');
  }
  const settingFlags = ['url', 'public-key', 'cert'] as const;
  if (action !== 'set' && settingFlags.some((flag) => values[flag] !== undefined)) {
    throw new UsageError(`--url, --public-key and --cert go with 'set' only`);
  }
  if (action !== 'show' && values.json === true) throw new UsageError(`--json goes with 'show'`);
  const home = cosignerHome(values.home, io.env);
  switch (action) {
    case 'set': {
      const stored = await settingsFromFlags(values);
      await withCosigner(home, values, io.env, ({ store }) => {
        const paired = store.pairedApiKeys.getPairedApiKey(apiKeyId);
        if (paired !== undefined && paired.unpairedAt !== null) {
          throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
            detail: `API key ${apiKeyId} was unpaired`,
          });
        }
        store.pairedApiKeys.setCallbackHandler(apiKeyId, stored);
      });
      io.stdout(`Callback Handler set for ${apiKeyId} (${describeMode(stored.mode)}).\n`);
      return ExitCode.OK;
    }
    case 'show': {
      const stored = await withCosigner(home, values, io.env, ({ store }) => {
        const paired = store.pairedApiKeys.getPairedApiKey(apiKeyId);
        if (paired === undefined) {
          throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: `API key ${apiKeyId}` });
        }
        return paired.callbackHandler;
      });
      const view = describeSettings(stored);
      if (values.json === true) io.stdout(json({ apiKeyId, callbackHandler: view }));
      else io.stdout(showText(apiKeyId, view));
      return ExitCode.OK;
    }
    case 'clear':
      await withCosigner(home, values, io.env, ({ store }) =>
        store.pairedApiKeys.setCallbackHandler(apiKeyId, null),
      );
      io.stdout(
        `Callback Handler cleared for ${apiKeyId}: its requests are signed automatically.\n`,
      );
      return ExitCode.OK;
    default:
      throw new UsageError('expected: cosigner callback set|show|clear <apiKeyId>');
  }
}

async function settingsFromFlags(values: {
  url?: string;
  'public-key'?: string;
  cert?: string;
}): Promise<StoredCallbackHandler> {
  const { url } = values;
  if (url === undefined) throw new UsageError('set needs --url');
  const keyFile = values['public-key'];
  const certFile = values.cert;
  if ((keyFile === undefined) === (certFile === undefined)) {
    throw new UsageError('set needs exactly one of --public-key (JWT mode) or --cert (pinned TLS)');
  }
  const stored: StoredCallbackHandler =
    keyFile !== undefined
      ? { mode: 'jwt', url, publicKey: await readPem(keyFile) }
      : { mode: 'pinned-tls', url, cert: await readPem(certFile as string) };
  // The same checks a signing job applies when it reads them back; stored re-encoded.
  return canonicalCallbackHandler(stored);
}

async function readPem(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `cannot read ${file}${typeof code === 'string' ? ` (${code})` : ''}`,
    });
  }
  if (bytes.length > MAX_PEM_FILE_BYTES) {
    throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
      detail: `${file} is larger than ${MAX_PEM_FILE_BYTES} bytes; expected one PEM key or certificate`,
    });
  }
  return bytes.toString('utf8');
}

/** What `show` prints: the settings, and what they resolve to (or why they do not). */
interface SettingsView {
  mode: StoredCallbackHandler['mode'];
  url: string;
  /** JWT mode: SHA-256 of the handler key's SPKI, its size, the PEM. */
  publicKeySha256?: string;
  publicKeyBits?: number;
  publicKey?: string;
  /** Pinned mode: the SPKI pin, subject and expiry of the certificate, the PEM. */
  certificatePin?: string;
  certificateSubject?: string;
  certificateNotAfter?: string;
  cert?: string;
  /** Set when the stored settings no longer pass the checks: requests then FAIL, never sign. */
  invalid?: string;
}

function describeSettings(stored: unknown): SettingsView | null {
  if (stored === null || stored === undefined) return null;
  const raw = stored as Partial<Record<string, unknown>>;
  const base: SettingsView = {
    mode: raw['mode'] === 'pinned-tls' ? 'pinned-tls' : 'jwt',
    url: typeof raw['url'] === 'string' ? raw['url'] : '',
  };
  try {
    const handler = parseCallbackHandler(stored);
    if (handler.mode === 'jwt') {
      const spki = handler.handlerPublicKey.export({ type: 'spki', format: 'der' });
      return {
        ...base,
        publicKeySha256: createHash('sha256').update(spki).digest('hex'),
        publicKeyBits: handler.handlerPublicKey.asymmetricKeyDetails?.modulusLength ?? 0,
        // Re-encoded from what was checked, never the stored text as is.
        publicKey: handler.handlerPublicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
    }
    const certificate = new X509Certificate(raw['cert'] as string);
    return {
      ...base,
      certificatePin: handler.pin,
      certificateSubject: certificate.subject.replace(/\n/g, ', '),
      certificateNotAfter: new Date(certificate.validTo).toISOString(),
      cert: certificate.toString(),
    };
  } catch (error) {
    if (!(error instanceof CosignerError)) throw error;
    return { ...base, invalid: error.message };
  }
}

function showText(apiKeyId: string, view: SettingsView | null): string {
  if (view === null) {
    return `No Callback Handler for ${apiKeyId}: its requests are signed automatically.\n`;
  }
  const rows: [string, string][] = [
    ['API key', apiKeyId],
    ['mode', describeMode(view.mode)],
    ['URL', view.url],
  ];
  if (view.publicKeySha256 !== undefined) {
    rows.push(['handler key', `RSA ${view.publicKeyBits}, SPKI SHA-256 ${view.publicKeySha256}`]);
  }
  if (view.certificatePin !== undefined) {
    rows.push(['certificate', `${view.certificateSubject}, expires ${view.certificateNotAfter}`]);
    rows.push(['pinned key', `SPKI SHA-256 ${view.certificatePin}`]);
  }
  if (view.invalid !== undefined) rows.push(['INVALID', `${view.invalid} — requests will fail`]);
  return table(rows);
}

function describeMode(mode: StoredCallbackHandler['mode']): string {
  return mode === 'jwt' ? 'JWT, RS256 both ways' : 'pinned TLS, JSON';
}
