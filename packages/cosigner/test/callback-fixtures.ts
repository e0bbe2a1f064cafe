// Fixtures of the co-signer's callback tests: RSA keys, openssl-made TLS certificates, protocol
// payloads, and loopback servers — genuine handlers from @countersign/callback-handler and raw
// ones that misbehave on purpose.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { join } from 'node:path';

import type { ConfigChangeSignRequest, TxSignRequest } from '@countersign/protocol';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicPem: string;
}

export function rsaKeyPair(modulusLength = 2048): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  return {
    privateKey,
    publicKey,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export interface TlsIdentity {
  key: string;
  cert: string;
  certFile: string;
}

/** The key types of test certificates, as `openssl req -newkey` arguments. */
const NEWKEY = {
  rsa: ['-newkey', 'rsa:2048'],
  'ec-p256': ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ed25519: ['-newkey', 'ed25519'],
} as const;

export type TlsKeyType = keyof typeof NEWKEY;

/** A self-signed certificate for 127.0.0.1, made by the openssl binary. */
export function tlsIdentity(dir: string, name: string, keyType: TlsKeyType = 'rsa'): TlsIdentity {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  const subject = ['-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'];
  execFileSync(
    'openssl',
    ['req', '-x509', ...NEWKEY[keyType], '-nodes', '-days', '1', ...subject].concat([
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ]),
    { stdio: 'pipe' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** A test CA (openssl) and a server certificate it issued for `subjectAltName`. */
export function caIssuedIdentity(
  dir: string,
  name: string,
  subjectAltName: string,
): TlsIdentity & { caCert: string } {
  const ca = tlsIdentity(dir, `${name}-ca`);
  const keyFile = join(dir, `${name}.key`);
  const csrFile = join(dir, `${name}.csr`);
  const certFile = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `subjectAltName=${subjectAltName}\n`);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(
    ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`].concat([
      '-keyout',
      keyFile,
      '-out',
      csrFile,
    ]),
  );
  run(
    [
      'x509',
      '-req',
      '-in',
      csrFile,
      '-CA',
      ca.certFile,
      '-CAkey',
      join(dir, `${name}-ca.key`),
    ].concat(['-CAcreateserial', '-days', '1', '-extfile', extFile, '-out', certFile]),
  );
  return {
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    certFile,
    caCert: ca.cert,
  };
}

let sequence = 0;

export function txPayload(): TxSignRequest {
  sequence += 1;
  return {
    txId: `tx-${sequence}`,
    requestId: `request-${sequence}-${process.pid}`,
    operation: 'TRANSFER',
    asset: 'BTC',
    sourceType: 'VAULT',
    sourceId: '0',
    destType: 'EXTERNAL_WALLET',
    destId: 'wallet-7',
    destAddress: 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
    amountStr: '0.25',
    requestedAmountStr: '0.25',
    note: 'supplier invoice 118',
    signerId: 'api-key-1',
    destinations: [{ amountNativeStr: '0.25', dstType: 'EXTERNAL_WALLET', dstId: 'wallet-7' }],
    rawMessages: [
      {
        content: 'aa'.repeat(32),
        derivationPath: [44, 0, 0, 0, 0],
        algorithm: 'MPC_ECDSA_SECP256K1',
      },
    ],
  };
}

export function configChangePayload(): ConfigChangeSignRequest {
  sequence += 1;
  return {
    requestId: `config-${sequence}-${process.pid}`,
    signerId: 'api-key-1',
    type: 'UNMANAGED_WALLET',
    extraInfo: { address: '0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8' },
  };
}

/** A listening loopback server and the requests it has seen. */
export interface Served {
  url: string;
  requests: () => number;
  close: () => Promise<void>;
}

/** Serves `listener` over http, or over https with `tls`, on a port the OS picks. */
export async function serve(
  listener: RequestListener,
  tls?: TlsIdentity,
  host = '127.0.0.1',
): Promise<Served> {
  let seen = 0;
  const counting: RequestListener = (request, response) => {
    seen += 1;
    listener(request, response);
  };
  const server: Server =
    tls === undefined
      ? createHttpServer(counting)
      : createHttpsServer({ key: tls.key, cert: tls.cert }, counting);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://${host}:${port}`,
    requests: () => seen,
    close: async () => {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that answers every request with `status`, `contentType` and `body`. */
export function fixedAnswer(status: number, contentType: string, body: string): RequestListener {
  return (request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(status, { 'content-type': contentType });
      response.end(body);
    });
  };
}

/** A server that reads the request and never answers. */
export const hangingAnswer: RequestListener = (request) => {
  request.resume();
};

/**
 * A TCP server that reads what it is sent (a ClientHello) and never answers: a TLS handshake
 * that never completes. `open()` counts its connections the client has not closed;
 * `allClosed()` resolves once every connection so far has been closed by the client.
 */
export async function stalledTlsServer(): Promise<
  Served & {
    open: () => number;
    allClosed: () => Promise<void>;
  }
> {
  let seen = 0;
  let open = 0;
  const waiters: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    seen += 1;
    open += 1;
    socket.resume();
    socket.on('error', () => undefined);
    socket.on('close', () => {
      open -= 1;
      if (open === 0) for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests: () => seen,
    open: () => open,
    allClosed: () =>
      open === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
