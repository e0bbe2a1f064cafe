// The `aws-kms` provider through the official SDK against a local fake of the AWS KMS JSON 1.1
// API (TrentService.Encrypt / TrentService.Decrypt), since the real service is unreachable here.
// The fake checks the target header, the content type, that a SigV4 Authorization header is
// present (it does not verify it), the key id, and the encryption context (as AAD).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { inspect } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main } from '../src/cli/main.js';
import type { AwsKmsOptions } from '../src/kms/aws-kms.js';
import { createAwsKms } from '../src/kms/aws-kms.js';
import { initStore, openStore } from '../src/store/cosigner-store.js';
import {
  cleanupTempDirs,
  expectCosignerError,
  pattern,
  snapshotDir,
  tempDir,
} from './store-helpers.js';

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const arnOf = (id: string): string => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`;

/** A minimal AWS KMS: symmetric keys by id, ARN or alias; ciphertext names its key, as AWS's does. */
class FakeAwsKms {
  readonly keys = new Map<string, Buffer>(); // ARN -> AES key
  readonly aliases = new Map<string, string>(); // alias/name -> ARN
  readonly requests: { target: string; keyId: unknown }[] = [];
  readonly server = createServer((req, res) => {
    void this.#handle(req, res);
  });

  addKey(id: string, alias?: string): string {
    const arn = arnOf(id);
    this.keys.set(arn, randomBytes(32));
    if (alias !== undefined) this.aliases.set(alias, arn);
    return arn;
  }

  url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  #resolve(keyId: unknown): string | undefined {
    if (typeof keyId !== 'string') return undefined;
    if (this.keys.has(keyId)) return keyId;
    if (this.keys.has(arnOf(keyId))) return arnOf(keyId);
    return this.aliases.get(keyId);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const fail = (status: number, type: string): void => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: type, message: type }));
    };
    const target = String(req.headers['x-amz-target']);
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-amz-json-1.1') {
      return fail(400, 'SerializationException');
    }
    if (!String(req.headers.authorization).startsWith('AWS4-HMAC-SHA256 Credential=AKIDFAKE/')) {
      return fail(400, 'MissingAuthenticationTokenException');
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    this.requests.push({ target, keyId: body['KeyId'] });
    const aad = Buffer.from(JSON.stringify(Object.entries(body['EncryptionContext'] ?? {}).sort()));
    if (target === 'TrentService.Encrypt') {
      const arn = this.#resolve(body['KeyId']);
      if (arn === undefined) return fail(400, 'NotFoundException');
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.keys.get(arn) as Buffer, iv);
      cipher.setAAD(aad);
      const ct = Buffer.concat([
        cipher.update(Buffer.from(String(body['Plaintext']), 'base64')),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      const name = Buffer.from(arn);
      const blob = Buffer.concat([Buffer.from([name.length]), name, iv, ct]);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({
          CiphertextBlob: blob.toString('base64'),
          KeyId: arn,
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        }),
      );
      return;
    }
    if (target === 'TrentService.Decrypt') {
      const blob = Buffer.from(String(body['CiphertextBlob']), 'base64');
      const arn = blob.subarray(1, 1 + (blob[0] ?? 0)).toString();
      const key = this.keys.get(arn);
      if (key === undefined) return fail(400, 'InvalidCiphertextException');
      if (body['KeyId'] !== undefined) {
        const asked = this.#resolve(body['KeyId']);
        if (asked === undefined) return fail(400, 'NotFoundException');
        if (asked !== arn) return fail(400, 'IncorrectKeyException');
      }
      const rest = blob.subarray(1 + (blob[0] ?? 0));
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, rest.subarray(0, 12));
        decipher.setAAD(aad);
        decipher.setAuthTag(rest.subarray(rest.length - 16));
        const pt = Buffer.concat([
          decipher.update(rest.subarray(12, rest.length - 16)),
          decipher.final(),
        ]);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify({
            Plaintext: pt.toString('base64'),
            KeyId: arn,
            EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          }),
        );
      } catch {
        fail(400, 'InvalidCiphertextException');
      }
      return;
    }
    fail(400, 'UnknownOperationException');
  }
}

const fake = new FakeAwsKms();
let keyA: string;
let base: AwsKmsOptions;

beforeAll(async () => {
  keyA = fake.addKey('1234abcd-12ab-34cd-56ef-1234567890ab', 'alias/cosigner');
  fake.addKey('0987dcba-09fe-87dc-65ba-ab0987654321');
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  base = {
    keyId: 'alias/cosigner',
    region: REGION,
    endpoint: fake.url(),
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' },
    maxAttempts: 1,
  };
});

afterAll(async () => {
  await new Promise<void>((resolve) => fake.server.close(() => resolve()));
  await cleanupTempDirs();
});

describe('aws-kms provider (local fake of the JSON 1.1 API)', () => {
  it('round-trips a data key through Encrypt/Decrypt, recording the key ARN', async () => {
    const kms = createAwsKms(base);
    const wrapped = await kms.wrapKey(pattern(32, 1));
    expect(wrapped).toMatchObject({ provider: 'aws-kms', keyId: keyA });
    expect(await kms.unwrapKey(wrapped)).toEqual(pattern(32, 1));
    expect(fake.requests.slice(-2)).toEqual([
      { target: 'TrentService.Encrypt', keyId: 'alias/cosigner' },
      { target: 'TrentService.Decrypt', keyId: 'alias/cosigner' },
    ]);
    await kms.close();
  });

  it('initialises and reopens a store; a wrong key id is a typed error and touches no file', async () => {
    const dir = await tempDir();
    const storeDir = join(dir, 'store');
    const kms = createAwsKms(base);
    const store = await initStore({ dir: storeDir, kms });
    store.shareSets.putShareSet({
      id: 'ss-1',
      apiKeyId: 'ak-1',
      algorithm: 'ECDSA_SECP256K1',
      share: pattern(48),
    });
    store.close();
    const before = await snapshotDir(dir);
    const otherKey = createAwsKms({ ...base, keyId: '0987dcba-09fe-87dc-65ba-ab0987654321' });
    await expectCosignerError(
      openStore({ dir: storeDir, kms: otherKey }),
      'ERR_COSIGNER_KMS_KEY_MISMATCH',
    );
    const unknownKey = createAwsKms({ ...base, keyId: 'alias/nope' });
    await expectCosignerError(
      openStore({ dir: storeDir, kms: unknownKey }),
      'ERR_COSIGNER_KMS_REFUSED',
    );
    expect(await snapshotDir(dir)).toEqual(before);
    const reopened = await openStore({ dir: storeDir, kms });
    expect(reopened.shareSets.readShare('ss-1').share).toEqual(pattern(48));
    reopened.close();
    await Promise.all([kms.close(), otherKey.close(), unknownKey.close()]);
  });

  it('an altered ciphertext is the one decryption error; an unreachable endpoint is KMS_UNAVAILABLE', async () => {
    const kms = createAwsKms(base);
    const wrapped = await kms.wrapKey(pattern(32));
    const ct = Buffer.from(wrapped.ciphertext, 'base64');
    ct[ct.length - 1] = (ct[ct.length - 1] ?? 0) ^ 1;
    await expectCosignerError(
      kms.unwrapKey({ ...wrapped, ciphertext: ct.toString('base64') }),
      'ERR_COSIGNER_DECRYPTION_FAILED',
    );
    const unknown = createAwsKms({ ...base, keyId: 'alias/nope' });
    const dataKey = pattern(32, 77);
    const error = await expectCosignerError(unknown.wrapKey(dataKey), 'ERR_COSIGNER_KMS_REFUSED');
    const dump = inspect(error, { depth: 20, showHidden: true });
    expect(dump).toContain('NotFoundException');
    expect(dump).not.toContain(Buffer.from(dataKey).toString('base64'));
    await unknown.close();
    const down = createAwsKms({ ...base, endpoint: 'http://127.0.0.1:9' });
    await expectCosignerError(down.wrapKey(pattern(32)), 'ERR_COSIGNER_KMS_UNAVAILABLE');
    await Promise.all([kms.close(), down.close()]);
  });
});

describe('the cosigner command on aws-kms (the SDK is loaded only for this provider)', () => {
  it('sets up a home whose store the fake KMS wraps, and status reopens it', async () => {
    const home = join(await tempDir(), 'home');
    const requestsBefore = fake.requests.length;
    const run = async (args: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await main(args, {
        stdout: (t) => (stdout += t),
        stderr: (t) => (stderr += t),
        // The SDK's default credential chain reads the process environment.
        env: process.env,
      });
      return { code, stdout, stderr };
    };
    const saved = {
      id: process.env['AWS_ACCESS_KEY_ID'],
      key: process.env['AWS_SECRET_ACCESS_KEY'],
    };
    process.env['AWS_ACCESS_KEY_ID'] = 'AKIDFAKE';
    process.env['AWS_SECRET_ACCESS_KEY'] = 'fake-secret';
    try {
      const setup = await run([
        'setup',
        '--home',
        home,
        '--kms',
        'aws-kms',
        '--aws-key-id',
        'alias/cosigner',
        '--aws-region',
        REGION,
        '--aws-endpoint',
        fake.url(),
        '--json',
      ]);
      expect(setup.stderr).toBe('');
      expect(setup.code).toBe(0);
      const status = await run(['status', '--home', home, '--json']);
      expect(status.stderr).toBe('');
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ shareSets: [] });
    } finally {
      for (const [name, value] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.key],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    // Both commands went through the fake: the data key wrapped at setup, unwrapped at status.
    expect(fake.requests.slice(requestsBefore).map((r) => r.target)).toEqual(
      expect.arrayContaining(['TrentService.Encrypt', 'TrentService.Decrypt']),
    );
  });
});
