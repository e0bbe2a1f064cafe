/**
 * The platform's authorization key: one key per database, shared by instances, named in every
 * pairing answer so co-signers can pin it, and signing what node's Ed25519 verifies.
 */
import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairNewCosigner } from './helpers/cosigner.js';
import {
  createApiUser,
  startTestPlatform,
  type TestApiUser,
  type TestPlatform,
} from './helpers/test-platform.js';

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

describe('platform authorization key', () => {
  let p: TestPlatform;
  let admin: TestApiUser;

  beforeAll(async () => {
    p = await startTestPlatform();
    admin = await createApiUser(p, 'authz-admin', 'ADMIN');
  });
  afterAll(() => p.close());

  it('is named in every pairing answer, always the same key', async () => {
    const keys = new Set<string>();
    for (const name of ['authz-signer-1', 'authz-signer-2']) {
      const signer = await createApiUser(p, name, 'SIGNER');
      const paired = await pairNewCosigner(p, admin, signer.id);
      expect(paired.platformKey).toMatch(/^[0-9a-f]{64}$/);
      keys.add(paired.platformKey);
    }
    expect(keys.size).toBe(1);
    expect([...keys][0]).toBe((await p.app.services.authorizationKey.publicKey()).toString('hex'));
  });

  it('signs with RFC 8032 Ed25519 under that key', async () => {
    const key = p.app.services.authorizationKey;
    const message = Buffer.from('countersign/roster/v1 test message');
    const signature = await key.sign(message);
    expect(signature).toHaveLength(64);
    const publicKey = createPublicKey({
      key: Buffer.concat([SPKI_ED25519_PREFIX, await key.publicKey()]),
      format: 'der',
      type: 'spki',
    });
    expect(verify(null, message, publicKey, signature)).toBe(true);
    expect(verify(null, Buffer.from('another message'), publicKey, signature)).toBe(false);
  });
});
