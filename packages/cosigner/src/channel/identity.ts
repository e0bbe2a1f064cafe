/**
 * Long-term party identity of a co-signer (ARCHITECTURE.md §5): an Ed25519 identity key that
 * signs every channel message (RFC 8032 §5.1) and an X25519 agreement key for end-to-end
 * encryption of point-to-point payloads (RFC 7748 §5). Both are registered at pairing and
 * published in every session roster.
 *
 * Serialization is raw: 32-byte secret keys (RFC 8032 §5.1.5 seed; RFC 7748 scalar before
 * clamping) and 32-byte public keys. Secret keys live in `#private` fields (not visible to
 * `JSON.stringify` or `util.inspect`), are copied in and out, and are zeroed by
 * {@link PartyIdentity.dispose}. noble's own temporaries (the expanded Ed25519 key) are out of
 * reach; that is the best this runtime allows.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { ChannelError } from './channel-errors.js';
import { ed25519SigningKey, signEd25519 } from './ed25519-strict.js';
import { wipe } from './wire-bytes.js';

/** Length of every key of this module, secret or public. */
export const KEY_LENGTH = 32;
/** Length of an Ed25519 signature. */
export const SIGNATURE_LENGTH = 64;

/** Raw secret keys of a party. Whoever holds one must wipe it after use. */
export interface PartySecretKeys {
  readonly identitySecretKey: Uint8Array;
  readonly agreementSecretKey: Uint8Array;
}

/** Raw public keys of a party, as registered at pairing and listed in rosters. */
export interface PartyPublicKeys {
  /** Ed25519 public key (RFC 8032 §5.1.5). */
  readonly identityKey: Uint8Array;
  /** X25519 public key (RFC 7748 §5). */
  readonly agreementKey: Uint8Array;
}

/** A party's long-term key pairs. Dispose of it when done; it is then unusable. */
export class PartyIdentity {
  readonly #identitySecretKey: Uint8Array;
  readonly #agreementSecretKey: Uint8Array;
  readonly #identityKey: Uint8Array;
  readonly #agreementKey: Uint8Array;
  /** The identity key as OpenSSL holds it, for signing (ed25519-strict.ts); dropped at dispose. */
  #signingKey: KeyObject | undefined;
  #disposed = false;

  private constructor(identitySecretKey: Uint8Array, agreementSecretKey: Uint8Array) {
    this.#identitySecretKey = identitySecretKey;
    this.#agreementSecretKey = agreementSecretKey;
    try {
      this.#identityKey = ed25519.getPublicKey(identitySecretKey);
      this.#agreementKey = x25519.getPublicKey(agreementSecretKey);
      this.#signingKey = ed25519SigningKey(identitySecretKey);
    } catch {
      wipe(identitySecretKey, agreementSecretKey);
      throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: 'secret key' });
    }
  }

  /** Fresh random keys (CSPRNG of the platform, through noble). */
  static generate(): PartyIdentity {
    return new PartyIdentity(ed25519.utils.randomSecretKey(), x25519.utils.randomSecretKey());
  }

  /** Restores an identity from raw 32-byte secret keys; the inputs are copied, not kept. */
  static fromSecretKeys(keys: PartySecretKeys): PartyIdentity {
    const identitySecretKey = copyKey(keys?.identitySecretKey, 'identitySecretKey');
    const agreementSecretKey = copyKey(keys?.agreementSecretKey, 'agreementSecretKey');
    return new PartyIdentity(identitySecretKey, agreementSecretKey);
  }

  /** Copies of the raw secret keys, for the encrypted store. The caller wipes them. */
  exportSecretKeys(): PartySecretKeys {
    this.assertUsable();
    return {
      identitySecretKey: this.#identitySecretKey.slice(),
      agreementSecretKey: this.#agreementSecretKey.slice(),
    };
  }

  /** Copies of the public keys. */
  publicKeys(): PartyPublicKeys {
    this.assertUsable();
    return { identityKey: this.#identityKey.slice(), agreementKey: this.#agreementKey.slice() };
  }

  /** Ed25519 signature (RFC 8032 §5.1.6) of `message`. */
  sign(message: Uint8Array): Uint8Array {
    this.assertUsable();
    if (this.#signingKey === undefined) throw new ChannelError('ERR_CHANNEL_DISPOSED');
    return signEd25519(this.#signingKey, message);
  }

  /**
   * X25519 shared secret with a peer's agreement key (RFC 7748 §6.1); low-order peer keys are
   * rejected. The caller wipes the result.
   */
  agree(peerAgreementKey: Uint8Array): Uint8Array {
    this.assertUsable();
    if (!(peerAgreementKey instanceof Uint8Array) || peerAgreementKey.length !== KEY_LENGTH)
      throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: 'peer agreement key' });
    try {
      return x25519.getSharedSecret(this.#agreementSecretKey, peerAgreementKey);
    } catch {
      throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: 'peer agreement key' });
    }
  }

  /** Whether {@link dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Zeroes the secret keys. Idempotent. */
  dispose(): void {
    wipe(this.#identitySecretKey, this.#agreementSecretKey);
    // OpenSSL's copy cannot be zeroed from JavaScript; it is freed once unreferenced.
    this.#signingKey = undefined;
    this.#disposed = true;
  }

  private assertUsable(): void {
    if (this.#disposed) throw new ChannelError('ERR_CHANNEL_DISPOSED');
  }
}

function copyKey(key: unknown, field: string): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH)
    throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: `${field}: 32 bytes` });
  return key.slice();
}

// A fixed, public scalar: the trial multiplication below only tests the peer key for the
// low-order points RFC 7748 §6.1 warns about (noble rejects them); it handles no secret.
const PROBE_SCALAR = new Uint8Array(KEY_LENGTH).fill(0x5a);

/**
 * Agreement keys already found valid: every roster lists the same few parties, and the trial
 * multiplication costs milliseconds. Validity is a property of the bytes alone; the bound is
 * only a guard.
 */
const MAX_CHECKED_AGREEMENT_KEYS = 1024;
const checkedAgreementKeys = new Set<string>();

/** Asserts a 32-byte X25519 public key with a clear top bit that is not of low order. */
export function assertAgreementKey(
  key: unknown,
  field = 'agreement key',
): asserts key is Uint8Array {
  let ok = false;
  if (key instanceof Uint8Array && key.length === KEY_LENGTH && ((key[31] ?? 0) & 0x80) === 0) {
    const hex = Buffer.from(key).toString('hex');
    ok = checkedAgreementKeys.has(hex);
    if (!ok) {
      try {
        x25519.getSharedSecret(PROBE_SCALAR, key);
        ok = true;
      } catch {
        ok = false;
      }
      if (ok) {
        if (checkedAgreementKeys.size >= MAX_CHECKED_AGREEMENT_KEYS) checkedAgreementKeys.clear();
        checkedAgreementKeys.add(hex);
      }
    }
  }
  if (!ok) throw new ChannelError('ERR_CHANNEL_INVALID_ARGUMENT', { detail: field });
}
