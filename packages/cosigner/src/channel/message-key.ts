/**
 * Per-message key of a point-to-point payload (ARCHITECTURE.md §5): HKDF-SHA256 (RFC 5869)
 * over the X25519 shared secret of sender and recipient (RFC 7748 §6.1), with
 *
 * ```
 * salt = sessionId
 * info = "countersign/channel/v1/p2p-key" | u16 from | u16 to | u8 round | u8 len ‖ protocol
 * ```
 *
 * so every (session, protocol, round, direction) slot has its own 32-byte XChaCha20-Poly1305
 * key; with a random 24-byte nonce on top, a key is never used twice with one nonce even if a
 * sender seals the same slot again.
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { PartyIdentity } from './identity.js';
import type { MessageHeader } from './sealed-message.js';
import { label, wipe, WireWriter } from './wire-bytes.js';

export const MESSAGE_KEY_DOMAIN_TAG = 'countersign/channel/v1/p2p-key';
const TAG_BYTES = label(MESSAGE_KEY_DOMAIN_TAG);
const KEY_LENGTH = 32;

/** The HKDF `info` of a point-to-point header. */
export function messageKeyInfo(header: MessageHeader & { readonly to: number }): Uint8Array {
  return new WireWriter()
    .raw(TAG_BYTES)
    .u16(header.from)
    .u16(header.to)
    .u8(header.round)
    .ascii8(header.protocol)
    .finish();
}

/**
 * The AEAD key for `header`, from my identity and the peer's agreement key. The caller wipes
 * the result; the intermediate shared secret is wiped here.
 */
export function deriveMessageKey(
  identity: PartyIdentity,
  peerAgreementKey: Uint8Array,
  header: MessageHeader & { readonly to: number },
): Uint8Array {
  const shared = identity.agree(peerAgreementKey);
  try {
    return messageKeyFromShared(shared, header);
  } finally {
    wipe(shared);
  }
}

/** The AEAD key for `header` from the X25519 shared secret of its two parties. */
export function messageKeyFromShared(
  shared: Uint8Array,
  header: MessageHeader & { readonly to: number },
): Uint8Array {
  return hkdf(sha256, shared, header.sessionId, messageKeyInfo(header), KEY_LENGTH);
}
