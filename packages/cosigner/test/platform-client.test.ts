// The co-signer's platform client against a misbehaving server on loopback: oversized answers
// are refused without buffering them, redirects are not followed, answers that do not match
// the protocol schema are refused, a server that does not answer in time or a poll that is
// abandoned ends with the platform unavailable, and sequential calls share one connection.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_RESPONSE_BYTES, PlatformClient } from '../src/platform/platform-client.js';
import { fixedAnswer, serve, tlsIdentity } from './callback-fixtures.js';

let server: Server;
let baseUrl: string;
let streamed = 0;
/** Remote ports of the connections the server saw, in order. */
const connections: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    connections.push(req.socket.remotePort ?? 0);
    if (req.url?.startsWith('/silent/')) {
      return; // never answers: the client's deadline or its caller's abort ends the call
    } else if (req.url === '/ok/cosigner/v1/api_keys') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ cosignerId: 'c', apiKeys: [] }));
    } else if (req.url === '/big-declared/cosigner/v1/api_keys') {
      res.writeHead(200, { 'content-length': String(MAX_RESPONSE_BYTES + 1) });
      res.end();
    } else if (req.url === '/big-streamed/cosigner/v1/api_keys') {
      // Chunked, no length: 1 MiB at a time until the client hangs up.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const pump = (): void => {
        while (streamed <= 2 * MAX_RESPONSE_BYTES && res.write(chunk)) streamed += chunk.length;
        if (streamed <= 2 * MAX_RESPONSE_BYTES) res.once('drain', pump);
        else res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    } else if (req.url === '/redirect/cosigner/v1/api_keys') {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ cosignerId: 'c', apiKeys: [{ apiKeyId: 1 }] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('PlatformClient', () => {
  it('refuses an answer declared or streamed beyond the bound, without reading it all', async () => {
    await expect(new PlatformClient(`${baseUrl}/big-declared`).apiKeys('t')).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_RESPONSE',
      message: /too large/,
    });
    await expect(new PlatformClient(`${baseUrl}/big-streamed`).apiKeys('t')).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_RESPONSE',
      message: /too large/,
    });
    expect(streamed).toBeLessThan(2 * MAX_RESPONSE_BYTES);
  });

  it('follows no redirect and refuses an answer outside the protocol schema', async () => {
    await expect(new PlatformClient(`${baseUrl}/redirect`).apiKeys('t')).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_UNAVAILABLE',
    });
    await expect(new PlatformClient(baseUrl).apiKeys('t')).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_RESPONSE',
    });
  });

  it('gives up on a silent server at its deadline, or at once when abandoned', async () => {
    const started = Date.now();
    await expect(
      new PlatformClient(`${baseUrl}/silent`, { timeoutMs: 200 }).apiKeys('t'),
    ).rejects.toMatchObject({ code: 'ERR_COSIGNER_PLATFORM_UNAVAILABLE', message: /timeout/ });
    expect(Date.now() - started).toBeLessThan(5_000);
    // A long poll the daemon abandons (stopping) ends with it, not at its 25 s wait.
    const stop = new AbortController();
    const poll = new PlatformClient(`${baseUrl}/silent`).work('t', 25, stop.signal);
    setTimeout(() => stop.abort(), 50);
    await expect(poll).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_UNAVAILABLE',
      message: /aborted/,
    });
    // Abandoned before it started (a daemon stopping during a token refresh): no connection.
    const before = connections.length;
    await expect(
      new PlatformClient(`${baseUrl}/ok`).offline('t', AbortSignal.abort()),
    ).rejects.toMatchObject({ code: 'ERR_COSIGNER_PLATFORM_UNAVAILABLE', message: /aborted/ });
    // A token Node will not put in a header is refused as unsendable, and sent nowhere.
    await expect(new PlatformClient(`${baseUrl}/ok`).apiKeys('t\r\nx: y')).rejects.toMatchObject({
      code: 'ERR_COSIGNER_PLATFORM_UNAVAILABLE',
      message: /ERR_INVALID_CHAR/,
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connections.length).toBe(before);
    // Nobody listening: the connection's error code, nothing else.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(new PlatformClient(`http://127.0.0.1:${port}`).apiKeys('t')).rejects.toMatchObject(
      { code: 'ERR_COSIGNER_PLATFORM_UNAVAILABLE', message: /ECONNREFUSED/ },
    );
  });

  it('checks the platform certificate: a server it does not trust gets no request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'platform-client-tls-'));
    const server = await serve(
      fixedAnswer(200, 'application/json', JSON.stringify({ cosignerId: 'c', apiKeys: [] })),
      tlsIdentity(dir, 'untrusted-platform'),
    );
    try {
      await expect(new PlatformClient(server.url).apiKeys('t')).rejects.toMatchObject({
        code: 'ERR_COSIGNER_PLATFORM_UNAVAILABLE',
        message: /SELF_SIGNED/,
      });
      expect(server.requests()).toBe(0);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes sequential calls over one kept-alive connection', async () => {
    const client = new PlatformClient(`${baseUrl}/ok`);
    const before = connections.length;
    for (let i = 0; i < 3; i++)
      expect(await client.apiKeys('t')).toEqual({ cosignerId: 'c', apiKeys: [] });
    const ports = connections.slice(before);
    expect(ports).toHaveLength(3);
    expect(new Set(ports).size).toBe(1);
  });

  it('refuses plain http except to a loopback address, and URLs with credentials', () => {
    expect(() => new PlatformClient('http://platform.example')).toThrow(/https/);
    // Only loopback literals: `localhost` is a name the resolver may map anywhere.
    expect(() => new PlatformClient('http://localhost:8080')).toThrow(/127\.0\.0\.1/);
    expect(new PlatformClient('http://127.0.0.1:8080').baseUrl).toBe('http://127.0.0.1:8080');
    expect(new PlatformClient('http://[::1]:8080').baseUrl).toBe('http://[::1]:8080');
    expect(() => new PlatformClient('https://user:pw@platform.example')).toThrow(/credentials/);
    expect(new PlatformClient('https://platform.example/').baseUrl).toBe(
      'https://platform.example',
    );
  });
});
