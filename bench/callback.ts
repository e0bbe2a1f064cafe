/**
 * Cost of asking a Callback Handler before signing: latency of the co-signer's gate
 * (`askStoredCallbackHandler`, what a signing job calls) with no handler configured — the
 * baseline, nothing is sent — against a genuine `@countersign/callback-handler` handler on
 * loopback in JWT mode (http, RS256 both ways) and pinned-TLS mode (https, a fresh pinned TLS
 * connection per ask, as the co-signer makes them), in one run. Asks run one after another, so
 * each figure is a round trip, not throughput. Keys are RSA-3072 on both sides (what `cosigner
 * setup` and `countersign-callback keygen` make).
 *
 *   npx tsx bench/callback.ts [--requests 300] [--warmup 30]
 * Prints one JSON object: p50/p95/p99/mean in milliseconds per mode, and each mode's p50
 * overhead over the baseline.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import {
  approve,
  createCallbackHandler,
  createNodeRequestListener,
  type CallbackHandlerOptions,
} from '../packages/callback-handler/src/index.js';
import { askStoredCallbackHandler } from '../packages/cosigner/src/callback/callback-gate.js';
import type { TxSignRequest } from '../packages/protocol/src/index.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '30' },
  },
});
const requests = Number(values.requests);
const warmup = Number(values.warmup);

const rsa = () => generateKeyPairSync('rsa', { modulusLength: 3072 });
const cosignerKey = rsa();
const handlerKey = rsa();
const pem = (key: typeof handlerKey.publicKey) =>
  key.export({ type: 'spki', format: 'pem' }).toString();

const dir = mkdtempSync(join(tmpdir(), 'bench-callback-'));
execFileSync(
  'openssl',
  ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=bench'].concat([
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    join(dir, 'tls.key'),
    '-out',
    join(dir, 'tls.crt'),
  ]),
  { stdio: 'pipe' },
);
const tls = {
  key: readFileSync(join(dir, 'tls.key'), 'utf8'),
  cert: readFileSync(join(dir, 'tls.crt'), 'utf8'),
};
rmSync(dir, { recursive: true, force: true });

const listener = (mode: CallbackHandlerOptions['mode']) =>
  createNodeRequestListener(createCallbackHandler({ mode, onTxSignRequest: () => approve() }));

async function listen(server: Server, scheme: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const jwtServer = createHttpServer(
  listener({
    type: 'jwt',
    cosignerPublicKey: cosignerKey.publicKey,
    handlerPrivateKey: handlerKey.privateKey,
  }),
);
const pinnedServer = createHttpsServer(tls, listener({ type: 'pinned-tls' }));
const settings = {
  none: null,
  jwt: { mode: 'jwt', url: await listen(jwtServer, 'http'), publicKey: pem(handlerKey.publicKey) },
  pinnedTls: { mode: 'pinned-tls', url: await listen(pinnedServer, 'https'), cert: tls.cert },
} as const;

let sequence = 0;
function payload(): TxSignRequest {
  sequence += 1;
  return {
    txId: `bench-${sequence}`,
    requestId: `bench-request-${sequence}`,
    operation: 'TRANSFER',
    asset: 'ETH',
    sourceType: 'VAULT',
    sourceId: '0',
    destType: 'ONE_TIME_ADDRESS',
    destId: '',
    destAddress: '0x5dC69B1Fbb13Bafd09af88a782F0F285772Ad5f8',
    amountStr: '0.01',
    requestedAmountStr: '0.01',
    note: 'bench',
    signerId: 'bench-api-key',
    destinations: [{ amountNativeStr: '0.01', dstType: 'ONE_TIME_ADDRESS', dstId: '' }],
    rawMessages: [
      {
        content: 'ab'.repeat(32),
        derivationPath: [44, 60, 0, 0, 0],
        algorithm: 'MPC_ECDSA_SECP256K1',
      },
    ],
  };
}

interface Figures {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  approved: number;
}

async function measure(stored: (typeof settings)[keyof typeof settings]): Promise<Figures> {
  const ask = () =>
    askStoredCallbackHandler(stored, () => cosignerKey.privateKey, 'tx_sign_request', payload());
  for (let i = 0; i < warmup; i += 1) await ask();
  const times: number[] = [];
  let approved = 0;
  for (let i = 0; i < requests; i += 1) {
    const start = performance.now();
    const { outcome } = await ask();
    times.push(performance.now() - start);
    if (outcome.action === 'APPROVE') approved += 1;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => round(times[Math.min(times.length - 1, Math.floor(q * times.length))]);
  return {
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    mean: round(times.reduce((sum, t) => sum + t, 0) / times.length),
    approved,
  };
}

function round(ms: number | undefined): number {
  return Math.round((ms ?? NaN) * 1000) / 1000;
}

const noHandler = await measure(settings.none);
const jwt = await measure(settings.jwt);
const pinnedTls = await measure(settings.pinnedTls);
console.log(
  JSON.stringify(
    {
      bench: 'callback',
      node: process.version,
      requests,
      warmup,
      unit: 'ms per ask (sequential round trips on loopback)',
      noHandler,
      jwt: { ...jwt, p50OverheadMs: round(jwt.p50 - noHandler.p50) },
      pinnedTls: { ...pinnedTls, p50OverheadMs: round(pinnedTls.p50 - noHandler.p50) },
      ok: [noHandler, jwt, pinnedTls].every((f) => f.approved === requests),
    },
    null,
    2,
  ),
);
jwtServer.close();
pinnedServer.close();
