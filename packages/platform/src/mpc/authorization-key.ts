/**
 * The platform's Ed25519 authorization key (ARCHITECTURE.md §4–5, RFC 8032): it signs MPC
 * session rosters (and, later, signing requests). Its seed is a platform secret kept in the
 * database like the pairing-token key, so every instance signs with the same key; co-signers
 * pin the public key at their first pairing and refuse any other afterwards.
 *
 * node:crypto rather than an Ed25519 library: the platform holds no MPC key material and needs
 * only sign and public key (OpenSSL's Ed25519 is deterministic, RFC 8032 §5.1.6).
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { PlatformSecrets } from '../cosigners/platform-secrets.js';

const AUTHORIZATION_KEY_NAME = 'authorization-ed25519';
/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410 §7): the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export class PlatformAuthorizationKey {
  private key: Promise<{ privateKey: KeyObject; publicKey: Buffer }> | undefined;

  constructor(private readonly secrets: PlatformSecrets) {}

  /** The raw 32-byte Ed25519 public key. */
  async publicKey(): Promise<Buffer> {
    return Buffer.from((await this.load()).publicKey);
  }

  /** The 64-byte Ed25519 signature of `message`. */
  async sign(message: Uint8Array): Promise<Buffer> {
    return sign(null, message, (await this.load()).privateKey);
  }

  private load(): Promise<{ privateKey: KeyObject; publicKey: Buffer }> {
    this.key ??= this.secrets.get(AUTHORIZATION_KEY_NAME).then((seed) => {
      const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
      const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      der.fill(0);
      const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
      return { privateKey, publicKey: Buffer.from(jwk.x ?? '', 'base64url') };
    });
    // A failed load (database down) is retried on the next call.
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }
}
