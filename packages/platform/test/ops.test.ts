import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createApiUser,
  signedRequest,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

describe('operations endpoints', () => {
  let p: TestPlatform;
  let admin: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'ops-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  it('healthz and readyz', async () => {
    expect((await p.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await p.app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('metrics count requests and auth rejections', async () => {
    await signedRequest(p, admin, 'GET', '/v1/countersign/session');
    await signedRequest(p, admin, 'GET', '/v1/countersign/session', { claims: { uri: '/x' } });
    const res = await p.app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toMatch(
      /countersign_http_request_duration_seconds_count\{method="GET",route="\/v1\/countersign\/session",status="200"\} 1/,
    );
    expect(res.body).toMatch(/countersign_http_auth_rejections_total\{status="401"\} 1/);
  });

  it('metrics count the database statements the platform ran', async () => {
    const statements = async () => {
      const body = (await p.app.inject({ url: '/metrics' })).body;
      const count = /^countersign_db_statements_total (\d+)$/m.exec(body)?.[1];
      const seconds = /^countersign_db_statement_seconds_total (\S+)$/m.exec(body)?.[1];
      return { count: Number(count), seconds: Number(seconds) };
    };
    const before = await statements();
    // A signed GET runs statements of its own: the API user's row, its nonce, the answer's.
    await signedRequest(p, admin, 'GET', '/v1/management/api_users');
    await signedRequest(p, admin, 'GET', '/v1/management/api_users');
    const after = await statements();
    expect(after.count - before.count).toBeGreaterThanOrEqual(2 * 3);
    expect(after.seconds).toBeGreaterThan(before.seconds);
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const doc = (await p.app.inject({ url: '/docs/json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/management/api_users',
        '/v1/management/audit_logs',
        '/v1/cosigners',
        '/v1/cosigners/{cosignerId}/api_keys/{apiKeyId}',
        '/v1/cosigners/{cosignerId}/api_keys/{apiKeyId}/{requestId}',
        '/v1/countersign/api_users/{apiKey}/pairing_token',
        '/cosigner/v1/pair',
        '/cosigner/v1/token',
        '/cosigner/v1/api_keys',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/cosigners/{cosignerId}/api_keys/{apiKeyId}'])).toEqual(
      expect.arrayContaining(['get', 'put', 'patch', 'delete']),
    );
    expect(doc.paths['/cosigner/v1/api_keys'].get.security).toEqual([{ cosignerAccessToken: [] }]);
    expect(
      doc.paths['/v1/management/api_users'].post.requestBody.content['application/json'].schema
        .required,
    ).toEqual(expect.arrayContaining(['name', 'role', 'csrPem']));
  });

  it('closes gracefully: in-flight requests finish, new connections are refused', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const q = await startTestPlatform({}, (app) => {
      app.get('/slow', { config: { permission: 'public' } }, async () => {
        entered();
        await held;
        return { done: true };
      });
    });
    const base = await q.app.listen({ host: '127.0.0.1', port: 0 });
    const inflight = fetch(`${base}/slow`);
    await inHandler;
    const closing = q.close();
    // While closing: a new request is refused (connection closed or 503), never served.
    const during = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(3000) }).then(
      (r) => r.status,
      (e: Error) => e.name,
    );
    expect(during).not.toBe(200);
    release();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    await closing;
  });

  it('closes without waiting on connections that sent nothing or went quiet', async () => {
    // Node would hold the close on these until headersTimeout or the keep-alive timeout (72 s):
    // one connection that never sends a request (a client that aborted before writing it), one
    // that is idle between keep-alive requests; both must be closed by the server.
    const q = await startTestPlatform();
    const base = new URL(await q.app.listen({ host: '127.0.0.1', port: 0 }));
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = connect(Number(base.port), base.hostname, () => resolve(s));
        s.once('error', reject);
      });
    const ended = (s: Socket): Promise<string> =>
      new Promise((resolve) => s.once('close', () => resolve(received.get(s) ?? '')));
    const received = new Map<Socket, string>();
    const silent = await open();
    const keptAlive = await open();
    for (const s of [silent, keptAlive])
      s.on('data', (d: Buffer) => received.set(s, (received.get(s) ?? '') + d.toString()));
    const answered = new Promise<void>((resolve) =>
      keptAlive.on('data', (d: Buffer) => {
        if (d.toString().includes('\r\n\r\n')) resolve();
      }),
    );
    keptAlive.write(
      `GET /healthz HTTP/1.1\r\nhost: ${base.host}\r\nconnection: keep-alive\r\n\r\n`,
    );
    await answered;
    const silentClosed = ended(silent);
    const keptAliveClosed = ended(keptAlive);
    await q.close();
    expect(await silentClosed).toBe('');
    expect(await keptAliveClosed).toMatch(/^HTTP\/1\.1 200/);
  });
});
