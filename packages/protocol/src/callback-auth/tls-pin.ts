/**
 * Pinned-TLS mode: the co-signer trusts exactly one server key, identified by the SHA-256 of
 * the certificate's SubjectPublicKeyInfo (DER), as in HPKP (RFC 7469 §2.4). Pinning the SPKI
 * rather than the whole certificate lets the handler renew its certificate on the same key.
 * @module
 */
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect, type ConnectionOptions } from 'node:tls';

import { CallbackError } from './callback-auth-error.js';

/** Hex SHA-256 of the certificate's SPKI: the value to configure on the co-signer. */
export function spkiSha256FromCertificatePem(certificatePem: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certificatePem);
  } catch (cause) {
    throw new CallbackError('ERR_CALLBACK_INVALID_KEY', 'not a PEM X.509 certificate', {
      cause,
    });
  }
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** Constant-time: does the DER SPKI hash to the pin? */
export function spkiMatchesPin(spkiDer: Uint8Array | undefined, pinHex: string): boolean {
  const expected = parsePin(pinHex);
  if (spkiDer === undefined || spkiDer.length === 0) return false;
  return timingSafeEqual(createHash('sha256').update(spkiDer).digest(), expected);
}

/**
 * Client side (the co-signer, or a test): an `https.Agent` that connects only to a server whose
 * certificate's SPKI hashes to `pinHex`. The pin replaces the CA and host-name checks — a
 * self-signed certificate is fine — and is checked after the handshake, before the agent hands
 * the socket to the request, so not one byte of a request reaches another server.
 *
 * (`checkServerIdentity` cannot do this: Node skips it when `rejectUnauthorized` is false.)
 */
export function createPinnedAgent(pinHex: string, options: PinnedAgentOptions = {}): Agent {
  parsePin(pinHex);
  const { handshakeTimeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS, ...agentOptions } = options;
  if (!Number.isSafeInteger(handshakeTimeoutMs) || handshakeTimeoutMs <= 0) {
    throw new CallbackError(
      'ERR_CALLBACK_INVALID_OPTIONS',
      'handshakeTimeoutMs must be a positive integer',
    );
  }
  return new PinnedAgent(pinHex, handshakeTimeoutMs, agentOptions);
}

/** The co-signer's whole-request deadline (CALLBACK_RESPONSE_TIMEOUT_SECONDS). */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

export interface PinnedAgentOptions extends AgentOptions {
  /**
   * A TLS handshake not complete by then is abandoned and its socket destroyed (default 30 s):
   * until it completes, the socket belongs to no request, so nothing else would close it.
   */
  handshakeTimeoutMs?: number;
}

class PinnedAgent extends Agent {
  readonly #pinHex: string;
  readonly #handshakeTimeoutMs: number;
  /** Sockets still in their handshake: neither a request nor the agent's lists hold them. */
  readonly #handshaking = new Set<Duplex>();

  constructor(pinHex: string, handshakeTimeoutMs: number, options: AgentOptions) {
    // No session resumption: a resumed session skips the certificate exchange we check.
    super({ ...options, maxCachedSessions: 0 });
    this.#pinHex = pinHex;
    this.#handshakeTimeoutMs = handshakeTimeoutMs;
  }

  /** Also destroys the sockets still in their handshake (review 2026-11-27 F3). */
  override destroy(): void {
    for (const socket of this.#handshaking) socket.destroy();
    this.#handshaking.clear();
    super.destroy();
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = connect({
      ...(options as ConnectionOptions),
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    this.#handshaking.add(socket);
    socket.setTimeout(this.#handshakeTimeoutMs, () =>
      settle(Object.assign(new Error('TLS handshake timed out'), { code: 'ETIMEDOUT' })),
    );
    socket.once('close', () => this.#handshaking.delete(socket));
    let settled = false;
    const settle = (error: Error | null) => {
      if (settled) return;
      settled = true;
      this.#handshaking.delete(socket);
      socket.setTimeout(0);
      if (error !== null) socket.destroy();
      callback?.(error, socket);
    };
    socket.once('secureConnect', () => {
      // The DER SPKI, as spkiSha256FromCertificatePem hashes it. Not getPeerCertificate().pubkey:
      // that is the SPKI for RSA only — the raw point for EC, absent for Ed25519 (review F2).
      const spki = socket
        .getPeerX509Certificate()
        ?.publicKey.export({ type: 'spki', format: 'der' });
      const ok = spkiMatchesPin(spki, this.#pinHex);
      settle(
        ok
          ? null
          : new CallbackError(
              'ERR_CALLBACK_TLS_PIN_MISMATCH',
              'callback handler certificate does not match the pinned key',
            ),
      );
    });
    socket.once('error', (error: Error) => settle(error));
    return undefined;
  }
}

function parsePin(pinHex: string): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(pinHex)) {
    throw new CallbackError('ERR_CALLBACK_INVALID_OPTIONS', 'pin must be 64 hex digits (SHA-256)');
  }
  return Buffer.from(pinHex, 'hex');
}
