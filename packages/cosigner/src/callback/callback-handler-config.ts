/**
 * The Callback Handler configured for one paired API user (ARCHITECTURE.md §7), as kept in the
 * store's `paired_api_keys.callback_handler` column: `{mode: 'jwt', url, publicKey}` or
 * `{mode: 'pinned-tls', url, cert}`, PEM text. Checked the same way when an operator sets it and
 * when a signing job reads it back, so a damaged row can only ever fail a request, never sign.
 * @module
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { isIPv4 } from 'node:net';

import {
  CallbackError,
  loadRsaPublicKey,
  spkiSha256FromCertificatePem,
} from '@countersign/protocol/callback-auth';

import { CosignerError } from '../errors.js';

/** What the store holds (JSON). */
export type StoredCallbackHandler =
  | { readonly mode: 'jwt'; readonly url: string; readonly publicKey: string }
  | { readonly mode: 'pinned-tls'; readonly url: string; readonly cert: string };

/** A checked configuration, ready for the client. */
export type CallbackHandlerConfig =
  | {
      readonly mode: 'jwt';
      readonly url: URL;
      /** The handler's RSA (≥ 2048 bits) key that signs its answers. */
      readonly handlerPublicKey: KeyObject;
    }
  | {
      readonly mode: 'pinned-tls';
      readonly url: URL;
      /** Hex SHA-256 of the certificate's SubjectPublicKeyInfo: the only key the TLS may use. */
      readonly pin: string;
    };

/** Longest accepted PEM (a certificate chain would be refused anyway: one certificate). */
const MAX_PEM_LENGTH = 16 * 1024;
const MAX_URL_LENGTH = 2048;

function invalid(detail: string): CosignerError {
  return new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', { detail });
}

/**
 * Plain `http` is accepted only to a loopback *literal* (127.0.0.0/8, [::1]): a handler beside
 * the co-signer on the same host (development, a sidecar) is reached without the payload — the
 * transaction's details — leaving the machine. `localhost` is a name, and a name can resolve
 * elsewhere (hosts file, DNS), so it is refused. Pinned-TLS mode is https only: the pin is its
 * whole security.
 */
export function parseCallbackUrl(value: string, mode: StoredCallbackHandler['mode']): URL {
  if (value.length > MAX_URL_LENGTH || !URL.canParse(value)) {
    throw invalid('the callback URL is not a URL');
  }
  if (value.includes('\\')) {
    // WHATWG parsing turns '\' into '/' in http(s) URLs: what is read is not what is written.
    throw invalid('the callback URL must not contain a backslash');
  }
  const url = new URL(value);
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw invalid('the callback URL takes no credentials, query or fragment');
  }
  const pathProblem = callbackPathProblem(url);
  if (pathProblem !== undefined) throw invalid(`the callback URL path: ${pathProblem}`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && mode === 'jwt' && isLoopbackLiteral(url.hostname)) return url;
  throw invalid(
    mode === 'jwt'
      ? 'the callback URL must be https (plain http only to 127.0.0.1 or [::1])'
      : 'the callback URL must be https in pinned-TLS mode',
  );
}

/**
 * Why `url`'s path cannot carry the request paths, or undefined. An empty segment (`//`, also
 * what `/.//` and `/\` normalise to) is refused: resolved as a relative reference, `//host/…`
 * names another host (review 2026-11-27 F1), and no handler needs one.
 */
export function callbackPathProblem(url: URL): string | undefined {
  if (url.pathname.includes('\\')) return 'backslash';
  if (url.pathname.includes('//')) return 'empty path segment';
  return undefined;
}

/**
 * The URL a request of `path` (`/v2/…`) goes to: the handler's URL with only its path replaced,
 * so scheme, host and port are the configured ones whatever the path holds. Undefined if the
 * configured path is unusable or the origin would differ (a configuration that got past the
 * checks): the caller fails the ask without sending.
 */
export function callbackRequestUrl(handlerUrl: URL, path: string): URL | undefined {
  if (callbackPathProblem(handlerUrl) !== undefined) return undefined;
  const target = new URL(handlerUrl.href);
  target.pathname = handlerUrl.pathname.replace(/\/+$/, '') + path;
  return target.origin === handlerUrl.origin && target.search === '' ? target : undefined;
}

function isLoopbackLiteral(hostname: string): boolean {
  return hostname === '[::1]' || (isIPv4(hostname) && hostname.startsWith('127.'));
}

/** Checks a stored (or about to be stored) configuration; ERR_COSIGNER_INVALID_ARGUMENT if bad. */
export function parseCallbackHandler(value: unknown): CallbackHandlerConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('callback handler settings must be an object');
  }
  const record = value as Record<string, unknown>;
  const mode = record['mode'];
  const expected = mode === 'jwt' ? 'publicKey' : mode === 'pinned-tls' ? 'cert' : undefined;
  if (expected === undefined) throw invalid("callback handler mode must be 'jwt' or 'pinned-tls'");
  for (const key of Object.keys(record)) {
    if (key !== 'mode' && key !== 'url' && key !== expected) {
      throw invalid(`callback handler settings: unknown field ${JSON.stringify(key.slice(0, 64))}`);
    }
  }
  const url = record['url'];
  const pem = record[expected];
  if (typeof url !== 'string') throw invalid('callback handler settings: url missing');
  if (typeof pem !== 'string' || pem.length > MAX_PEM_LENGTH) {
    throw invalid(`callback handler settings: ${expected} must be PEM text`);
  }
  const parsedUrl = parseCallbackUrl(url, mode as StoredCallbackHandler['mode']);
  return mode === 'jwt'
    ? { mode, url: parsedUrl, handlerPublicKey: publicKeyOf(pem) }
    : { mode: 'pinned-tls', url: parsedUrl, pin: pinOf(pem) };
}

/**
 * What to store for checked settings: not the operator's file but its canonical re-encoding —
 * the SPKI PEM of the key, or the one certificate re-encoded — so nothing else that sat in the
 * file (comments, bag attributes, another PEM block) is kept or shown (review 2026-11-27 F7).
 */
export function canonicalCallbackHandler(stored: StoredCallbackHandler): StoredCallbackHandler {
  const handler = parseCallbackHandler(stored);
  if (handler.mode === 'jwt') {
    const publicKey = handler.handlerPublicKey.export({ type: 'spki', format: 'pem' }).toString();
    return { mode: 'jwt', url: stored.url, publicKey };
  }
  const cert = new X509Certificate((stored as { cert: string }).cert).toString();
  return { mode: 'pinned-tls', url: stored.url, cert };
}

/** The handler's public key: RSA of at least 2048 bits (RFC 7518 §3.3 for RS256). */
function publicKeyOf(pem: string): KeyObject {
  if (pem.includes('PRIVATE KEY')) {
    // Never store a private key, even if its public half would do.
    throw invalid('the handler public key file holds a private key; give its public half');
  }
  return withCallbackError(() => loadRsaPublicKey(pem, 'handler public key'));
}

function pinOf(pem: string): string {
  if (pem.includes('PRIVATE KEY')) {
    // A combined certificate + key file: the TLS private key must not reach the store.
    throw invalid('the handler certificate file holds a private key; give the certificate alone');
  }
  const certificates = pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  if (certificates !== 1) {
    throw invalid('the handler certificate file must hold exactly one PEM certificate');
  }
  return withCallbackError(() => spkiSha256FromCertificatePem(pem));
}

function withCallbackError<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof CallbackError) throw invalid(error.message);
    throw error;
  }
}
