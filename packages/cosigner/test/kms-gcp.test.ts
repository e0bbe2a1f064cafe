// The `gcp-kms` provider through the official SDK in REST mode (`fallback: true`) against a local
// fake of the Cloud KMS REST API (cryptoKeys.encrypt / cryptoKeys.decrypt), since the real
// service is unreachable here. The fake checks the path, the bearer token, the CRC-32C checksums
// and the AAD, and answers errors in the google.rpc.Status JSON shape.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';

import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { crc32c } from '../src/kms/crc32c.js';
import type { GcpKmsOptions } from '../src/kms/gcp-kms.js';
import { createGcpKms } from '../src/kms/gcp-kms.js';
import { initStore, openStore } from '../src/store/cosigner-store.js';
import {
  cleanupTempDirs,
  expectCosignerError,
  pattern,
  snapshotDir,
  tempDir,
} from './store-helpers.js';

const KEY_A = 'projects/demo/locations/europe-west1/keyRings/cosigner/cryptoKeys/store-a';
const KEY_B = 'projects/demo/locations/europe-west1/keyRings/cosigner/cryptoKeys/store-b';
const TOKEN = 'ya29.test-access-token';

class FakeCloudKms {
  readonly keys = new Map<string, Buffer>([
    [KEY_A, randomBytes(32)],
    [KEY_B, randomBytes(32)],
  ]);
  readonly requests: string[] = [];
  readonly server = createServer((req, res) => {
    void this.#handle(req, res);
  });

  url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const fail = (code: number, status: string, message: string): void =>
      reply(code, { error: { code, message, status } });
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    this.requests.push(`${req.method} ${path}`);
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return fail(401, 'UNAUTHENTICATED', 'no token');
    const m =
      /^\/v1\/(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/:]+):(encrypt|decrypt)$/.exec(
        path,
      );
    if (req.method !== 'POST' || m === null) return fail(404, 'NOT_FOUND', 'no such method');
    const [, name, op] = m as unknown as [string, string, string];
    const key = this.keys.get(name);
    if (key === undefined) return fail(404, 'NOT_FOUND', 'key not found');
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
    const aad = Buffer.from(body['additionalAuthenticatedData'] ?? '', 'base64');
    if (body['additionalAuthenticatedDataCrc32c'] !== String(crc32c(aad)))
      return fail(400, 'INVALID_ARGUMENT', 'aad crc');
    if (op === 'encrypt') {
      const plaintext = Buffer.from(body['plaintext'] ?? '', 'base64');
      if (body['plaintextCrc32c'] !== String(crc32c(plaintext)))
        return fail(400, 'INVALID_ARGUMENT', 'crc');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad);
      const ciphertext = Buffer.concat([
        iv,
        cipher.update(plaintext),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return reply(200, {
        name: `${name}/cryptoKeyVersions/1`,
        ciphertext: ciphertext.toString('base64'),
        ciphertextCrc32c: String(crc32c(ciphertext)),
        verifiedPlaintextCrc32c: true,
        verifiedAdditionalAuthenticatedDataCrc32c: true,
        protectionLevel: 'HSM',
      });
    }
    const ciphertext = Buffer.from(body['ciphertext'] ?? '', 'base64');
    if (body['ciphertextCrc32c'] !== String(crc32c(ciphertext)))
      return fail(400, 'INVALID_ARGUMENT', 'crc');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, ciphertext.subarray(0, 12));
      decipher.setAAD(aad);
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
      const plaintext = Buffer.concat([
        decipher.update(ciphertext.subarray(12, ciphertext.length - 16)),
        decipher.final(),
      ]);
      return reply(200, {
        plaintext: plaintext.toString('base64'),
        plaintextCrc32c: String(crc32c(plaintext)),
        usedPrimary: true,
        protectionLevel: 'HSM',
      });
    } catch {
      return fail(400, 'INVALID_ARGUMENT', 'Decryption failed: the ciphertext is invalid.');
    }
  }
}

const fake = new FakeCloudKms();
let base: GcpKmsOptions;

function authClient(token = TOKEN): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
  return client;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  base = { keyName: KEY_A, endpoint: fake.url(), authClient: authClient() };
});

afterAll(async () => {
  await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  await cleanupTempDirs();
});

describe('CRC-32C', () => {
  it('matches the RFC 3720 §B.4 vectors and the standard check value', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });
});

describe('gcp-kms provider (local fake of the REST API)', () => {
  it('round-trips a data key through encrypt/decrypt in REST mode', async () => {
    const kms = createGcpKms(base);
    const wrapped = await kms.wrapKey(pattern(32, 2));
    expect(wrapped).toMatchObject({
      provider: 'gcp-kms',
      keyId: KEY_A,
      params: { keyVersion: `${KEY_A}/cryptoKeyVersions/1` },
    });
    expect(await kms.unwrapKey(wrapped)).toEqual(pattern(32, 2));
    expect(fake.requests.slice(-2)).toEqual([
      `POST /v1/${KEY_A}:encrypt`,
      `POST /v1/${KEY_A}:decrypt`,
    ]);
    await kms.close();
  });

  it('initialises and reopens a store; a wrong key is a typed error and touches no file', async () => {
    const dir = await tempDir();
    const storeDir = join(dir, 'store');
    const kms = createGcpKms(base);
    const store = await initStore({ dir: storeDir, kms });
    store.shareSets.putShareSet({
      id: 'ss-1',
      apiKeyId: 'ak-1',
      algorithm: 'EDDSA_ED25519',
      share: pattern(40),
    });
    store.close();
    const before = await snapshotDir(dir);
    const otherKey = createGcpKms({ ...base, keyName: KEY_B });
    await expectCosignerError(
      openStore({ dir: storeDir, kms: otherKey }),
      'ERR_COSIGNER_KMS_KEY_MISMATCH',
    );
    const badToken = createGcpKms({ ...base, authClient: authClient('revoked') });
    await expectCosignerError(openStore({ dir: storeDir, kms: badToken }), 'ERR_COSIGNER_KMS_AUTH');
    expect(await snapshotDir(dir)).toEqual(before);
    const reopened = await openStore({ dir: storeDir, kms });
    expect(reopened.shareSets.readShare('ss-1').share).toEqual(pattern(40));
    reopened.close();
    await Promise.all([kms.close(), otherKey.close(), badToken.close()]);
  });

  it('a ciphertext the service cannot decrypt is the one decryption error; bad config is refused', async () => {
    const kms = createGcpKms(base);
    const wrapped = await kms.wrapKey(pattern(32));
    const ct = Buffer.from(wrapped.ciphertext, 'base64');
    ct[20] = (ct[20] ?? 0) ^ 4;
    await expectCosignerError(
      kms.unwrapKey({ ...wrapped, ciphertext: ct.toString('base64') }),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    // Another key's ciphertext presented under this key's name (as if the header were edited).
    const b = createGcpKms({ ...base, keyName: KEY_B });
    const wrappedB = await b.wrapKey(pattern(32));
    await expectCosignerError(
      kms.unwrapKey({ ...wrappedB, keyId: KEY_A }),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    expect(() => createGcpKms({ ...base, keyName: 'projects/x/keys/y' })).toThrow(/cryptoKeys/);
    // A failed encrypt: the SDK's own error holds the request body (the plaintext data key);
    // ours must not, anywhere in its cause chain.
    const revoked = createGcpKms({ ...base, authClient: authClient('revoked') });
    const dataKey = pattern(32, 77);
    const error = await expectCosignerError(revoked.wrapKey(dataKey), 'ERR_COSIGNER_KMS_AUTH');
    const dump = inspect(error, { depth: 20, showHidden: true });
    expect(dump).toContain('401');
    expect(dump).not.toContain(Buffer.from(dataKey).toString('base64'));
    await revoked.close();
    await Promise.all([kms.close(), b.close()]);
  });
});
