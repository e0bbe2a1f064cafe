import { createHash, generateKeyPairSync, randomUUID, webcrypto } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CountersignApiError,
  CountersignClient,
  CountersignSignerError,
  CountersignUsageError,
  createPemRequestSigner,
  type RequestSigner,
} from '@countersign/sdk';
import {
  json,
  startSignedRequestServer,
  type SignedRequestServer,
} from './signed-request-server.js';

const apiKey = randomUUID();
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

let server: SignedRequestServer;

function client(options: Partial<ConstructorParameters<typeof CountersignClient>[0]> = {}) {
  return new CountersignClient({
    baseUrl: server.baseUrl,
    apiKey,
    signer: createPemRequestSigner(privateKeyPem),
    retry: { maxAttempts: 1 },
    ...options,
  });
}

beforeAll(async () => {
  server = await startSignedRequestServer({ apiKey, publicKey, iatToleranceSeconds: 300 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.requests.length = 0;
  server.authFailures.length = 0;
});

describe('request signing', () => {
  it('signs a GET with the Fireblocks claims and the empty-body hash', async () => {
    const users = [{ id: randomUUID(), name: 'ops', role: 'ADMIN', enabled: true }];
    server.handler = (_req, res) => json(res, 200, { users });

    await expect(client().listApiUsers()).resolves.toEqual({ users });

    expect(server.authFailures).toEqual([]);
    const [req] = server.requests;
    expect(req?.method).toBe('GET');
    expect(req?.url).toBe('/v1/management/api_users');
    expect(req?.headers['x-api-key']).toBe(apiKey);
    expect(req?.headers['content-type']).toBeUndefined();
    expect(req?.jwtHeader).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(Object.keys(req?.claims ?? {}).sort()).toEqual(
      ['bodyHash', 'exp', 'iat', 'nonce', 'sub', 'uri'].sort(),
    );
    expect(req?.claims).toMatchObject({
      uri: '/v1/management/api_users',
      sub: apiKey,
      bodyHash: EMPTY_SHA256,
    });
    expect((req?.claims.exp as number) - (req?.claims.iat as number)).toBe(55);
  });

  it('hashes exactly the body bytes it sends, non-ASCII included', async () => {
    server.handler = (_req, res) => json(res, 200, { id: 'key-1' });
    const input = {
      name: 'trésorerie "bot" ✓',
      role: 'SIGNER' as const,
      csrPem: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n',
      coSignerSetupIsFirstUser: true,
      idempotencyKey: 'idem-1',
    };

    await expect(client().createApiUser(input)).resolves.toEqual({ id: 'key-1' });

    expect(server.authFailures).toEqual([]);
    const [req] = server.requests;
    expect(req?.method).toBe('POST');
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers['idempotency-key']).toBe('idem-1');
    // Everything but the idempotency key (a header) goes in the body.
    const body: Record<string, unknown> = { ...input };
    delete body.idempotencyKey;
    expect(JSON.parse(req?.rawBody.toString('utf8') ?? '')).toEqual(body);
    expect(req?.claims.bodyHash).toBe(
      createHash('sha256')
        .update(req?.rawBody ?? Buffer.alloc(0))
        .digest('hex'),
    );
  });

  it('signs the query string exactly as it goes on the wire', async () => {
    server.handler = (_req, res) => json(res, 200, {});
    const namePrefix = "a b'c/é&x=1+2%";

    await client().request('GET', '/v1/vault/accounts_paged', {
      query: { namePrefix, limit: 5, orderBy: undefined, hidden: false },
    });

    expect(server.authFailures).toEqual([]);
    const [req] = server.requests;
    expect(req?.claims.uri).toBe(req?.url);
    const received = new URL(req?.url ?? '', 'http://x').searchParams;
    expect(received.get('namePrefix')).toBe(namePrefix);
    expect(received.get('limit')).toBe('5');
    expect(received.get('hidden')).toBe('false');
    expect(received.has('orderBy')).toBe(false);
  });

  it('keeps a base path prefix in the signed uri', async () => {
    server.handler = (_req, res) => json(res, 200, { users: [] });
    await client({ baseUrl: `${server.baseUrl}/api/` }).listApiUsers();
    expect(server.authFailures).toEqual([]);
    expect(server.requests[0]?.claims.uri).toBe('/api/v1/management/api_users');
  });

  it('applies the configured clock skew and token lifetime to iat/exp', async () => {
    server.handler = (_req, res) => json(res, 200, { users: [] });
    const before = Math.floor(Date.now() / 1000);
    await client({ clockSkewMs: -120_000, tokenLifetimeSeconds: 30 }).listApiUsers();
    const after = Math.floor(Date.now() / 1000);

    const claims = server.requests[0]?.claims ?? {};
    expect(claims.iat).toBeGreaterThanOrEqual(before - 120);
    expect(claims.iat).toBeLessThanOrEqual(after - 120);
    expect((claims.exp as number) - (claims.iat as number)).toBe(30);
  });

  it('uses a fresh nonce for every request', async () => {
    server.handler = (_req, res) => json(res, 200, { users: [] });
    const c = client();
    await Promise.all(Array.from({ length: 8 }, () => c.listApiUsers()));
    expect(server.authFailures).toEqual([]);
    expect(new Set(server.requests.map((r) => r.claims.nonce)).size).toBe(8);
  });
});

describe('KMS-style asynchronous signer', () => {
  it('signs with a non-extractable WebCrypto key behind an asynchronous call', async () => {
    // Stands in for a KMS/HSM: the key cannot be exported, signing is a remote-ish await.
    const cryptoKey = await webcrypto.subtle.importKey(
      'pkcs8',
      privateKey.export({ type: 'pkcs8', format: 'der' }),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    let calls = 0;
    const kmsSigner: RequestSigner = {
      async sign(signingInput) {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return new Uint8Array(
          await webcrypto.subtle.sign('RSASSA-PKCS1-v1_5', cryptoKey, signingInput),
        );
      },
    };
    server.handler = (req, res) => json(res, 200, { echoed: req.claims.nonce });

    const c = client({ signer: kmsSigner });
    const results = await Promise.all([
      c.listApiUsers(),
      c.request('POST', '/v1/transactions', { body: { amount: '1' } }),
      c.request('GET', '/v1/management/audit_logs', { query: { timePeriod: 'DAY' } }),
    ]);

    expect(server.authFailures).toEqual([]);
    expect(server.requests).toHaveLength(3);
    expect(results).toHaveLength(3);
    expect(calls).toBe(3);
  });

  it('reports a failing signer as CountersignSignerError and sends nothing', async () => {
    const denied: RequestSigner = { sign: () => Promise.reject(new Error('KMS: AccessDenied')) };
    const error = await client({ signer: denied })
      .listApiUsers()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CountersignSignerError);
    expect((error as CountersignSignerError).code).toBe('ERR_SDK_SIGNER');
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a signer that returns no bytes', async () => {
    const empty: RequestSigner = { sign: () => Promise.resolve(new Uint8Array(0)) };
    await expect(client({ signer: empty }).listApiUsers()).rejects.toBeInstanceOf(
      CountersignSignerError,
    );
  });
});

describe('errors', () => {
  it('maps a { message, code } error body to CountersignApiError', async () => {
    server.handler = (_req, res) =>
      json(res, 403, { message: 'Insufficient permissions', code: -8 });
    const error = await client()
      .listApiUsers()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CountersignApiError);
    expect(error).toMatchObject({
      status: 403,
      code: -8,
      message: 'Insufficient permissions',
      body: { message: 'Insufficient permissions', code: -8 },
    });
  });

  it('gives a numeric code even when the error body is not JSON', async () => {
    server.handler = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>bad gateway</html>');
    };
    const error = await client()
      .listApiUsers()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 502, code: 1500, body: '<html>bad gateway</html>' });
  });

  it('rejects a 2xx body that is not JSON', async () => {
    server.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    };
    await expect(client().listApiUsers()).rejects.toMatchObject({
      code: 'ERR_SDK_INVALID_RESPONSE',
    });
  });

  it('returns status and headers from requestWithResponse, undefined data for an empty body', async () => {
    server.handler = (_req, res) => {
      res.writeHead(202, { location: '/v1/cosigners/abc/api_keys/def/pair' });
      res.end();
    };
    const response = await client().requestWithResponse('PUT', '/v1/cosigners/abc/api_keys/def', {
      body: {},
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe('/v1/cosigners/abc/api_keys/def/pair');
    expect(response.data).toBeUndefined();
  });

  it('refuses bad input before sending anything', async () => {
    const c = client();
    await expect(
      c.request('GET', '/v1/x', { headers: { Authorization: 'Bearer forged' } }),
    ).rejects.toBeInstanceOf(CountersignUsageError);
    await expect(c.request('GET', '/v1/x', { body: { a: 1 } })).rejects.toBeInstanceOf(
      CountersignUsageError,
    );
    await expect(c.request('GET', 'v1/x')).rejects.toBeInstanceOf(CountersignUsageError);
    await expect(c.request('GET', '//evil.example/v1')).rejects.toBeInstanceOf(
      CountersignUsageError,
    );
    await expect(c.request('GET', '/v1/x?a=1')).rejects.toBeInstanceOf(CountersignUsageError);
    expect(server.requests).toHaveLength(0);
    expect(() => client({ tokenLifetimeSeconds: 61 })).toThrow(CountersignUsageError);
    expect(() => client({ apiKey: '' })).toThrow(CountersignUsageError);
    expect(() => client({ baseUrl: 'ftp://example.com' })).toThrow(CountersignUsageError);
  });
});
