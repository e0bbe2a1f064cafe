/**
 * The platform's Ed25519 authorization key (ARCHITECTURE.md §4–5, RFC 8032): it signs MPC
 * session rosters and signing authorizations. Its seed is a platform secret kept in the
 * database like the pairing-token key, so every instance signs with the same key; co-signers
 * pin the public key at their first pairing and refuse any other afterwards.
 *
 * node:crypto rather than an Ed25519 library: the platform holds no MPC key material and needs
 * only sign and public key (OpenSSL's Ed25519 is deterministic, RFC 8032 §5.1.6).
 */
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { PlatformSecrets } from '../cosigners/platform-secrets.js';
import type { Database } from '../db/schema.js';

const AUTHORIZATION_KEY_NAME = 'authorization-ed25519';
/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410 §7): the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

interface LoadedKey {
  privateKey: KeyObject;
  publicKey: Buffer;
}

export class PlatformAuthorizationKey {
  private key: Promise<LoadedKey> | undefined;
  /** Set once loaded: signing inside a transaction must not wait on a load queued behind it. */
  private loaded: LoadedKey | undefined;

  constructor(private readonly secrets: PlatformSecrets) {}

  /** The raw 32-byte Ed25519 public key. */
  async publicKey(): Promise<Buffer> {
    return Buffer.from((await this.load()).publicKey);
  }

  /**
   * The 64-byte Ed25519 signature of `message`. Inside a database transaction pass it as `trx`:
   * a key not loaded yet is then read through it (PGlite has one connection).
   */
  async sign(message: Uint8Array, trx?: Kysely<Database>): Promise<Buffer> {
    if (this.loaded !== undefined) return sign(null, message, this.loaded.privateKey);
    if (trx === undefined) return sign(null, message, (await this.load()).privateKey);
    const key = keyFromSeed(await this.secrets.get(AUTHORIZATION_KEY_NAME, trx));
    // What a transaction read is not kept (it may roll back a creation); a load of its own,
    // once the connection is free, spares every later signing this read.
    void this.load();
    return sign(null, message, key.privateKey);
  }

  private load(): Promise<LoadedKey> {
    this.key ??= this.secrets.get(AUTHORIZATION_KEY_NAME).then((seed) => {
      this.loaded = keyFromSeed(seed);
      return this.loaded;
    });
    // A failed load (database down) is retried on the next call.
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }
}

function keyFromSeed(seed: Buffer): LoadedKey {
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  der.fill(0);
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { privateKey, publicKey: Buffer.from(jwk.x ?? '', 'base64url') };
}
