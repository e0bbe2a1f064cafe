// Shared fixtures: real RSA keys from node:crypto, a valid tx_sign_request, and a co-signer
// client that signs requests and posts them over real loopback HTTP(S).
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { AddressInfo, Server } from 'node:net';
import { join } from 'node:path';

import type { ConfigChangeSignRequest, TxSignRequest } from '@countersign/protocol';

export interface RsaPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
}

/** 2048 bits: the protocol minimum, and fast enough to make a few per test file. */
export function rsaPair(modulusLength = 2048): RsaPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

let counter = 0;

export function txSignRequest(overrides: Partial<TxSignRequest> = {}): TxSignRequest {
  counter += 1;
  return {
    txId: `9c794cee-7e27-46c9-9e9a-${String(counter).padStart(12, '0')}`,
    requestId: `req-${counter}-${Math.random().toString(16).slice(2)}`,
    operation: 'TRANSFER',
    asset: 'ETH',
    sourceType: 'VAULT',
    sourceId: '0',
    destType: 'ONE_TIME_ADDRESS',
    destId: '',
    destAddress: '0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8',
    amountStr: '0.010000000000000000',
    requestedAmountStr: '0.01',
    fee: '0.000597803762241000',
    note: 'payout',
    signerId: 'b5d3b6d2-3d1e-4f3a-9a53-1f0d7f9b2c11',
    destinations: [
      {
        amountNativeStr: '0.01',
        dstAddress: '0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8',
        dstType: 'ONE_TIME_ADDRESS',
        dstId: '',
      },
    ],
    rawMessages: [
      {
        content: '77b4e74099ce90c08503c0e0bb6e672dbe1c5e3e127ce333bf22eb581cd3f6ce',
        derivationPath: [44, 60, 0, 0, 0],
        algorithm: 'MPC_ECDSA_SECP256K1',
      },
    ],
    ...overrides,
  };
}

export function configChangeRequest(
  overrides: Partial<ConfigChangeSignRequest> = {},
): ConfigChangeSignRequest {
  counter += 1;
  return {
    requestId: `cfg-${counter}`,
    signerId: 'b5d3b6d2-3d1e-4f3a-9a53-1f0d7f9b2c11',
    type: 'UNMANAGED_WALLET',
    extraInfo: { address: '0xabc' },
    ...overrides,
  };
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** POSTs `body` to `url` (http or https); for https, `tls` carries the pinning options. */
export function post(
  url: string,
  body: string | Buffer,
  options: { contentType?: string; method?: string; tls?: RequestOptions } = {},
): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? 'POST',
        headers: {
          'content-type': options.contentType ?? 'application/jwt',
          'content-length': Buffer.byteLength(body),
        },
        ...options.tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The README's example rules file. */
export const EXAMPLE_RULES = {
  version: 1,
  defaultAction: 'REJECT',
  operations: ['TRANSFER'],
  denylist: [
    { address: '0x000000000000000000000000000000000000dEaD' },
    { type: 'EXCHANGE', id: 'ex-9' },
  ],
  businessHours: {
    timeZone: 'America/New_York',
    windows: [{ days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], start: '09:00', end: '17:30' }],
    outsideAction: 'REJECT',
  },
  assets: {
    ETH: {
      allowlist: [
        { address: '0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8' },
        { type: 'VAULT', id: '1' },
      ],
      maxAmount: '10',
      velocity: [{ windowSeconds: 86400, maxAmount: '25', maxCount: 3 }],
    },
    BTC: { allowlist: 'ANY', maxAmount: '0.5' },
  },
  configChanges: { approveTypes: ['UNMANAGED_WALLET'] },
};

/**
 * A self-signed certificate for 127.0.0.1 (RSA-2048 unless `newKey` says otherwise) made by the
 * real `openssl` binary (required),
 * written as `<dir>/<name>.key` and `<dir>/<name>.crt`; returns the two paths.
 */
export function opensslSelfSigned(
  dir: string,
  name: string,
  newKey: readonly string[] = ['-newkey', 'rsa:2048'],
): { keyFile: string; certFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...newKey,
      '-nodes',
      '-days',
      '1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'pipe' },
  );
  return { keyFile, certFile };
}
