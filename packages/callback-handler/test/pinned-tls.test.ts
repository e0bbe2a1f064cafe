// Pinned-TLS mode over real HTTPS on loopback: self-signed certificates made by the `openssl`
// binary, a client that pins the SPKI SHA-256 and nothing else; a server presenting another
// certificate is refused before a byte of the request is sent.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  approve,
  checkCallbackResponse,
  createCallbackHandler,
  createNodeRequestListener,
  createPinnedAgent,
  reject,
  spkiSha256FromCertificatePem,
  type TxSignRequest,
} from '../src/index.js';
import { close, listen, opensslSelfSigned, post, txSignRequest } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'callback-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function selfSigned(
  name: string,
  newKey?: readonly string[],
): { key: string; cert: string; opensslPin: string } {
  const { keyFile: key, certFile: cert } = opensslSelfSigned(dir, name, newKey);
  // The pin as openssl computes it (an independent implementation): SHA-256 of the DER SPKI.
  const spki = execFileSync('openssl', ['x509', '-in', cert, '-pubkey', '-noout']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: spki });
  const digest = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der }).toString();
  return {
    key: readFileSync(key, 'utf8'),
    cert: readFileSync(cert, 'utf8'),
    opensslPin: digest.split(' ')[0]!.trim(),
  };
}

const good = selfSigned('handler');
const other = selfSigned('impostor');

function tlsServer(tls: { key: string; cert: string }, seen: TxSignRequest[]): Server {
  const handler = createCallbackHandler({
    mode: { type: 'pinned-tls' },
    onTxSignRequest: (request) => {
      seen.push(request);
      return request.requestedAmountStr === '0.01' ? approve() : reject('amount');
    },
  });
  return createServer(tls, createNodeRequestListener(handler));
}

describe('pinned-TLS mode', () => {
  const seen: TxSignRequest[] = [];
  const seenByImpostor: TxSignRequest[] = [];
  let server: Server;
  let impostor: Server;
  let url = '';
  let impostorUrl = '';
  let impostorRequests = 0;

  beforeAll(async () => {
    server = tlsServer(good, seen);
    impostor = tlsServer(other, seenByImpostor);
    impostor.on('request', () => (impostorRequests += 1));
    url = `https://127.0.0.1:${await listen(server)}`;
    impostorUrl = `https://127.0.0.1:${await listen(impostor)}`;
  });
  afterAll(async () => {
    await close(server);
    await close(impostor);
  });

  // The co-signer's TLS options: the pin is the only trust anchor.
  const pinned = (pin: string) => ({
    tls: { agent: createPinnedAgent(pin) },
    contentType: 'application/json',
  });

  it('computes the same SPKI pin as openssl', () => {
    expect(spkiSha256FromCertificatePem(good.cert)).toBe(good.opensslPin);
    expect(spkiSha256FromCertificatePem(other.cert)).not.toBe(good.opensslPin);
  });

  it('answers plain JSON to a client pinning the handler certificate', async () => {
    const payload = txSignRequest();
    const answer = await post(
      `${url}/v2/tx_sign_request`,
      JSON.stringify(payload),
      pinned(spkiSha256FromCertificatePem(good.cert)),
    );
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/json');
    expect(checkCallbackResponse(JSON.parse(answer.body), payload.requestId)).toEqual({
      action: 'APPROVE',
      requestId: payload.requestId,
    });
    expect(seen.at(-1)).toEqual(payload);
  });

  it('refuses a server presenting another certificate; the request never reaches it', async () => {
    const payload = txSignRequest();
    await expect(
      post(
        `${impostorUrl}/v2/tx_sign_request`,
        JSON.stringify(payload),
        pinned(spkiSha256FromCertificatePem(good.cert)),
      ),
    ).rejects.toThrow(/does not match the pinned key/);
    expect(seenByImpostor).toHaveLength(0);
    expect(impostorRequests).toBe(0); // not even the request line reached it
  });

  it('validates the JSON payload as strictly as in JWT mode', async () => {
    const pin = pinned(good.opensslPin);
    const notJson = await post(`${url}/v2/tx_sign_request`, '{"txId":', pin);
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body).message).toBe('body is not JSON');
    const extra = await post(
      `${url}/v2/tx_sign_request`,
      JSON.stringify({ ...txSignRequest(), iat: 1 }),
      pin,
    );
    expect(extra.status).toBe(400);
    expect(JSON.parse(extra.body).message).toMatch(/unknown field "iat"/);
  });

  it('pins EC P-256 and Ed25519 certificates too: the openssl pin connects, another key of the type does not (review F2)', async () => {
    const keyTypes: [string, string[]][] = [
      ['ec-p256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']],
      ['ed25519', ['-newkey', 'ed25519']],
    ];
    for (const [name, newKey] of keyTypes) {
      const identity = selfSigned(`handler-${name}`, newKey);
      const impostorIdentity = selfSigned(`impostor-${name}`, newKey);
      expect(spkiSha256FromCertificatePem(identity.cert), name).toBe(identity.opensslPin);
      const typed: TxSignRequest[] = [];
      const typedServer = tlsServer(identity, typed);
      const typedImpostor = tlsServer(impostorIdentity, []);
      let impostorSeen = 0;
      typedImpostor.on('request', () => (impostorSeen += 1));
      try {
        const port = await listen(typedServer);
        const payload = txSignRequest({ requestedAmountStr: '0.01' });
        const answer = await post(
          `https://127.0.0.1:${port}/v2/tx_sign_request`,
          JSON.stringify(payload),
          pinned(identity.opensslPin),
        );
        expect(answer.status, name).toBe(200);
        expect(checkCallbackResponse(JSON.parse(answer.body), payload.requestId).action).toBe(
          'APPROVE',
        );
        expect(typed).toHaveLength(1);
        const impostorPort = await listen(typedImpostor);
        await expect(
          post(
            `https://127.0.0.1:${impostorPort}/v2/tx_sign_request`,
            JSON.stringify(payload),
            pinned(identity.opensslPin),
          ),
        ).rejects.toThrow(/does not match the pinned key/);
        expect(impostorSeen).toBe(0);
      } finally {
        await close(typedServer);
        await close(typedImpostor);
      }
    }
  });

  it('gives up a TLS handshake that never completes and closes its socket (review F3)', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    const stalled = createTcpServer((socket) => {
      socket.resume(); // reads the ClientHello, never answers
      socket.on('error', () => undefined);
      socket.on('close', () => closed());
    });
    const port = await listen(stalled);
    try {
      const agent = createPinnedAgent(good.opensslPin, { handshakeTimeoutMs: 200 });
      await expect(
        post(`https://127.0.0.1:${port}/v2/tx_sign_request`, '{}', { tls: { agent } }),
      ).rejects.toThrow(/TLS handshake timed out/);
      await serverSawClose; // the client closed it: this server never does
      expect(() => createPinnedAgent(good.opensslPin, { handshakeTimeoutMs: 0 })).toThrow(
        /handshakeTimeoutMs/,
      );
    } finally {
      await close(stalled);
    }
  });

  it('refuses a malformed pin', () => {
    expect(() => createPinnedAgent('abc')).toThrow(/64 hex digits/);
  });
});
