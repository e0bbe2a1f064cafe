import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CountersignApiError,
  CountersignClient,
  CountersignNetworkError,
  CountersignTimeoutError,
  createPemRequestSigner,
  type CountersignClientOptions,
  type RetryEvent,
} from '@countersign/sdk';
import {
  json,
  startSignedRequestServer,
  type SignedRequestServer,
} from './signed-request-server.js';

const apiKey = randomUUID();
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signer = createPemRequestSigner(
  privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
);

let server: SignedRequestServer;
let retries: RetryEvent[];
/** Responses a test leaves hanging (timeouts); ended after the test. */
let held: ServerResponse[];

function client(options: Partial<CountersignClientOptions> = {}): CountersignClient {
  return new CountersignClient({
    baseUrl: server.baseUrl,
    apiKey,
    signer,
    retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 100 },
    onRetry: (event) => retries.push(event),
    ...options,
  });
}

/** Answers the scripted responses in order, then 200 `{ ok: true }`. */
function script(...steps: ((res: ServerResponse) => void)[]): void {
  let i = 0;
  server.handler = (_req, res) => {
    const step = steps[i++];
    if (step) step(res);
    else json(res, 200, { ok: true });
  };
}

beforeAll(async () => {
  server = await startSignedRequestServer({ apiKey, publicKey });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.authFailures.length = 0;
  retries = [];
  held = [];
  return () => {
    for (const res of held) res.destroy();
  };
});

describe('retries', () => {
  it('waits the Retry-After seconds on 429, then succeeds with a freshly signed token', async () => {
    script((res) => json(res, 429, { message: 'slow down', code: 1429 }, { 'retry-after': '1' }));

    await expect(client().listApiUsers()).resolves.toEqual({ ok: true });

    expect(server.authFailures).toEqual([]);
    expect(server.requests).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ attempt: 1, delayMs: 1000, method: 'GET' });
    expect((retries[0]?.error as CountersignApiError).code).toBe(1429);
    const [first, second] = server.requests;
    expect(second?.claims.nonce).not.toBe(first?.claims.nonce);
    // Lower bound only: the client must not come back before the server allowed it.
    expect((second?.receivedAt ?? 0) - (first?.receivedAt ?? 0)).toBeGreaterThanOrEqual(990);
  });

  it('honours an HTTP-date Retry-After', async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    script((res) =>
      json(res, 503, { message: 'busy', code: 1503 }, { 'retry-after': at.toUTCString() }),
    );

    await expect(client().listApiUsers()).resolves.toEqual({ ok: true });

    expect(retries).toHaveLength(1);
    expect(retries[0]?.delayMs).toBeGreaterThan(0);
    expect(retries[0]?.delayMs).toBeLessThanOrEqual(2000);
    expect(server.requests[1]?.receivedAt).toBeGreaterThanOrEqual(at.getTime() - 10);
  });

  it('does not wait out a Retry-After beyond maxRetryAfterMs', async () => {
    script((res) => json(res, 429, { message: 'later', code: 1429 }, { 'retry-after': '3600' }));

    const error = await client()
      .listApiUsers()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CountersignApiError);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 3_600_000 });
    expect(server.requests).toHaveLength(1);
  });

  it('retries 503 with exponential backoff and succeeds', async () => {
    script(
      (res) => json(res, 503, { message: 'unavailable', code: 1503 }),
      (res) => json(res, 503, { message: 'unavailable', code: 1503 }),
    );

    await expect(client().listApiUsers()).resolves.toEqual({ ok: true });

    expect(server.requests).toHaveLength(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    // Equal jitter: attempt n waits within [d/2, d], d = min(100, 20·2^(n-1)).
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(10);
    expect(retries[0]?.delayMs).toBeLessThanOrEqual(20);
    expect(retries[1]?.delayMs).toBeGreaterThanOrEqual(20);
    expect(retries[1]?.delayMs).toBeLessThanOrEqual(40);
  });

  it('gives up after maxAttempts and throws the last error', async () => {
    server.handler = (_req, res) => json(res, 500, { message: 'internal', code: 1500 });

    await expect(
      client({ retry: { maxAttempts: 3, baseDelayMs: 1 } }).listApiUsers(),
    ).rejects.toMatchObject({ status: 500, code: 1500 });

    expect(server.requests).toHaveLength(3);
    expect(retries).toHaveLength(2);
  });

  it('does not retry 4xx other than 429', async () => {
    server.handler = (_req, res) => json(res, 400, { message: 'bad', code: 1003 });
    await expect(client().listApiUsers()).rejects.toMatchObject({ status: 400 });
    expect(server.requests).toHaveLength(1);
  });

  it('retries a POST on 500 only when it carries an Idempotency-Key', async () => {
    script((res) => json(res, 500, { message: 'internal', code: 1500 }));
    await expect(
      client().request('POST', '/v1/transactions', { body: { amount: '1' } }),
    ).rejects.toMatchObject({ status: 500 });
    expect(server.requests).toHaveLength(1);

    server.requests.length = 0;
    script((res) => json(res, 500, { message: 'internal', code: 1500 }));
    await expect(
      client().request('POST', '/v1/transactions', {
        body: { amount: '1' },
        headers: { 'Idempotency-Key': randomUUID() },
      }),
    ).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.rawBody.equals(server.requests[0]?.rawBody ?? Buffer.alloc(0))).toBe(
      true,
    );
  });

  it('retries a POST on 429 and 503 even without an Idempotency-Key', async () => {
    script((res) => json(res, 429, { message: 'slow', code: 1429 }, { 'retry-after': '0' }));
    await expect(client().request('POST', '/v1/transactions', { body: {} })).resolves.toEqual({
      ok: true,
    });
    expect(server.requests).toHaveLength(2);
  });
});

describe('network errors and timeouts', () => {
  async function closedPortUrl(): Promise<string> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return `http://127.0.0.1:${port}`;
  }

  it('retries a GET on connection failure, then throws CountersignNetworkError', async () => {
    const error = await client({
      baseUrl: await closedPortUrl(),
      retry: { maxAttempts: 3, baseDelayMs: 1 },
    })
      .listApiUsers()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CountersignNetworkError);
    expect((error as CountersignNetworkError).code).toBe('ERR_SDK_NETWORK');
    expect(retries).toHaveLength(2);
  });

  it('does not retry a POST without Idempotency-Key on connection failure', async () => {
    const error = await client({ baseUrl: await closedPortUrl() })
      .request('POST', '/v1/transactions', { body: {} })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CountersignNetworkError);
    expect(retries).toHaveLength(0);
  });

  it('times out a request whose response never comes', async () => {
    server.handler = (_req, res) => held.push(res);

    const error = await client({ timeoutMs: 200, retry: { maxAttempts: 2, baseDelayMs: 1 } })
      .listApiUsers()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CountersignTimeoutError);
    expect((error as CountersignTimeoutError).code).toBe('ERR_SDK_TIMEOUT');
    // Idempotent GET: the timed-out attempt was retried once, with a new token.
    expect(server.requests).toHaveLength(2);
    expect(server.authFailures).toEqual([]);
  });

  it('times out a response body that stalls after the headers', async () => {
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"users": [');
      held.push(res);
    };
    await expect(
      client({ timeoutMs: 200, retry: { maxAttempts: 1 } }).listApiUsers(),
    ).rejects.toBeInstanceOf(CountersignTimeoutError);
  });

  it('stops at once, without retrying, when the caller aborts', async () => {
    server.handler = (_req, res) => held.push(res);
    const controller = new AbortController();
    const pending = client().listApiUsers({ signal: controller.signal });
    while (server.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();

    await expect(pending).rejects.toMatchObject({ code: 'ERR_SDK_ABORTED' });
    expect(retries).toHaveLength(0);
    expect(server.requests).toHaveLength(1);
  });

  it('an abort during a backoff wait ends the wait', async () => {
    server.handler = (_req, res) =>
      json(res, 429, { message: 'slow', code: 1429 }, { 'retry-after': '30' });
    const controller = new AbortController();
    const c = client({
      onRetry: () => controller.abort(),
    });
    await expect(c.listApiUsers({ signal: controller.signal })).rejects.toMatchObject({
      code: 'ERR_SDK_ABORTED',
    });
    expect(server.requests).toHaveLength(1);
  });
});
