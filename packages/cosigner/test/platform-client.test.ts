// The co-signer's platform client against a misbehaving server on loopback: oversized answers
// are refused without buffering them, redirects are not followed, and answers that do not match
// the protocol schema are refused.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MAX_RESPONSE_BYTES, PlatformClient } from '../src/platform/platform-client.js';

let server: Server;
let baseUrl: string;
let streamed = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/big-declared/cosigner/v1/api_keys') {
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
