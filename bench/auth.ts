/**
 * Cost of request authentication: requests/s on one handler reached without
 * authentication (permission `public`) and with full Fireblocks-style
 * authentication (API key lookup, RS256 verification, claims, IP allowlist,
 * nonce stored in the database), in one run, over real HTTP on loopback.
 *
 * Two handlers: the API-user list handler (a real route's work: one database
 * read and a response schema) — the figure the < 25 % target is about — and
 * an empty handler, the worst case, where authentication is all there is.
 *
 * The load generator runs in a worker thread with tokens signed before the
 * clock starts, so the figures measure the server, not the client's RSA.
 *
 *   npx tsx bench/auth.ts [--requests 4000] [--concurrency 16]
 * Prints one JSON object; `authOverheadPct` is the throughput lost to auth.
 */
import { generateKeyPairSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { buildApp, defaultConfig, openDatabase } from '../packages/platform/src/index.js';
import { csrFor } from '../packages/platform/test/helpers/keys.js';
import { authHeaders } from '../packages/platform/test/helpers/request-signing.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
  },
});
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);

const database = await openDatabase(
  process.env['DATABASE_URL']
    ? { databaseUrl: process.env['DATABASE_URL'], schema: `bench_${Date.now()}` }
    : { dataDir: 'memory://' },
);
const app = await buildApp({ config: { ...defaultConfig, logLevel: 'silent' }, database });
const ws = await app.services.workspaces.create({
  name: 'bench',
  ownerEmail: 'bench@example.test',
});
const payload = { ok: true, at: 'bench' };
const listApiUsers = async () => ({
  users: (await app.services.apiUsers.list(ws.workspaceId)).map((u) => u.name),
});
app.get('/v1/bench/empty/public', { config: { permission: 'public' } }, () => payload);
app.get('/v1/bench/empty/authenticated', { config: { permission: 'session:read' } }, () => payload);
app.get('/v1/bench/list/public', { config: { permission: 'public' } }, listApiUsers);
app.get('/v1/bench/list/authenticated', { config: { permission: 'session:read' } }, listApiUsers);
const base = await app.listen({ host: '127.0.0.1', port: 0 });

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const user = await app.services.apiUsers.create(ws.owner, {
  name: 'bench',
  role: 'VIEWER',
  csrPem: await csrFor(privateKey, '/CN=bench'),
});

function tokens(path: string, n: number, signed: boolean): Record<string, string>[] {
  return Array.from({ length: n }, () =>
    signed ? authHeaders(privateKey, user.user.id, path) : {},
  );
}

async function load(
  path: string,
  headers: Record<string, string>[],
): Promise<{ rps: number; failures: number; ms: number; statuses: Record<string, number> }> {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const http = require('node:http');
    const agent = new http.Agent({ keepAlive: true, maxSockets: workerData.concurrency });
    let next = 0, failures = 0;
    const statuses = {};
    function one() {
      return new Promise((resolve) => {
        const i = next++;
        const req = http.get(workerData.url, { agent, headers: workerData.headers[i] }, (res) => {
          statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1;
          if (res.statusCode !== 200) failures++;
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', (e) => { failures++; statuses[e.code] = (statuses[e.code] || 0) + 1; resolve(); });
      });
    }
    async function lane() { while (next < workerData.headers.length) await one(); }
    const t0 = process.hrtime.bigint();
    Promise.all(Array.from({ length: workerData.concurrency }, lane)).then(() => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      agent.destroy();
      parentPort.postMessage({ ms, failures, statuses });
    });
    `,
    { eval: true, workerData: { url: base + path, headers, concurrency } },
  );
  const { ms, failures, statuses } = await new Promise<{
    ms: number;
    failures: number;
    statuses: Record<string, number>;
  }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  return { rps: Math.round((headers.length / ms) * 1000), failures, ms: Math.round(ms), statuses };
}

async function compare(handler: 'list' | 'empty') {
  const pub = `/v1/bench/${handler}/public`;
  const auth = `/v1/bench/${handler}/authenticated`;
  // Warm both paths (JIT, connection pool, key cache), then measure each once.
  await load(pub, tokens(pub, 500, false));
  await load(auth, tokens(auth, 300, true));
  const unauthenticated = await load(pub, tokens(pub, requests, false));
  const authenticated = await load(auth, tokens(auth, requests, true));
  const overhead = 1 - authenticated.rps / unauthenticated.rps;
  return {
    unauthenticated,
    authenticated,
    authOverheadPct: Math.round(overhead * 1000) / 10,
    ok: authenticated.failures === 0 && unauthenticated.failures === 0,
  };
}

const route = await compare('list');
const emptyHandler = await compare('empty');
console.log(
  JSON.stringify(
    {
      bench: 'auth',
      database: database.engine,
      node: process.version,
      requests,
      concurrency,
      route: { handler: 'list API users (one database read)', ...route },
      emptyHandler: { handler: 'returns a constant (worst case)', ...emptyHandler },
      targetPct: 25,
      withinTarget: route.ok && route.authOverheadPct < 25,
    },
    null,
    2,
  ),
);
await app.close();
