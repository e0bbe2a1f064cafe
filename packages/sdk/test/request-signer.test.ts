import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CountersignUsageError, createPemRequestSigner } from '@countersign/sdk';

describe('createPemRequestSigner', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('signs RS256 (PKCS#1 v1.5, SHA-256) from a PKCS#8 or PKCS#1 PEM', async () => {
    const input = new TextEncoder().encode('header.payload');
    for (const type of ['pkcs8', 'pkcs1'] as const) {
      const signer = createPemRequestSigner(privateKey.export({ type, format: 'pem' }) as string);
      const signature = await signer.sign(input);
      expect(signature).toHaveLength(256);
      expect(verify('sha256', input, publicKey, signature)).toBe(true);
    }
  });

  it('reads an encrypted PEM with its passphrase', async () => {
    const pem = privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'correct horse',
    }) as string;
    expect(() => createPemRequestSigner(pem)).toThrow(CountersignUsageError);
    const signer = createPemRequestSigner(pem, { passphrase: 'correct horse' });
    const input = new Uint8Array([1, 2, 3]);
    expect(verify('sha256', input, publicKey, await signer.sign(input))).toBe(true);
  });

  it('refuses keys the platform would refuse, without echoing the input', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(() =>
      createPemRequestSigner(ec.export({ type: 'pkcs8', format: 'pem' }) as string),
    ).toThrow(/RSA/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() =>
      createPemRequestSigner(small.export({ type: 'pkcs8', format: 'pem' }) as string),
    ).toThrow(/1024 bits is too small/);
    const secretLooking =
      '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVl\n-----END PRIVATE KEY-----\n';
    try {
      createPemRequestSigner(secretLooking);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CountersignUsageError);
      expect((error as Error).message).not.toContain('c2VjcmV0');
    }
  });
});
