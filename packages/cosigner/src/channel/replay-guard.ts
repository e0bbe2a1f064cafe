/**
 * Per-session seen-set of received channel messages: one entry per (from, round, to) slot,
 * holding SHA-256 digests of the sealed bytes and of the opened header and payload.
 *
 * - the same sealed bytes again → a duplicate, dropped without further work;
 * - other sealed bytes with the same header and payload (a sender that sealed the slot again,
 *   with a fresh nonce) → a duplicate too;
 * - a different payload for the same slot → a conflict, attributable to the sender because the
 *   guard only records messages whose signature verified.
 *
 * Memory is bounded by the roster: at most parties × 255 rounds × (parties + 1) recipients.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { constantTimeEqual, WireWriter } from './wire-bytes.js';

const DOMAIN_TAG = new TextEncoder().encode('countersign/channel/v1/seen');

interface SeenEntry {
  readonly sealedDigest: Uint8Array;
  readonly contentDigest: Uint8Array;
}

/** Outcome of {@link ReplayGuard.record}. */
export type ReplayVerdict = 'new' | 'duplicate' | 'conflict';

export class ReplayGuard {
  readonly #seen = new Map<string, SeenEntry>();

  /** Whether these exact sealed bytes were already accepted for the slot. */
  isKnownCopy(from: number, round: number, to: number, sealed: Uint8Array): boolean {
    const entry = this.#seen.get(slot(from, round, to));
    return entry !== undefined && constantTimeEqual(entry.sealedDigest, sha256(sealed));
  }

  /** Records an authenticated message and says whether it is new, a duplicate or a conflict. */
  record(
    from: number,
    round: number,
    to: number,
    sealed: Uint8Array,
    headerBytes: Uint8Array,
    payload: Uint8Array,
  ): ReplayVerdict {
    const key = slot(from, round, to);
    // Hashed incrementally: no copy of a (secret) payload is left behind.
    const h = sha256.create().update(DOMAIN_TAG);
    h.update(new WireWriter().u32(headerBytes.length).finish()).update(headerBytes);
    h.update(new WireWriter().u32(payload.length).finish()).update(payload);
    const contentDigest = h.digest();
    const entry = this.#seen.get(key);
    if (entry === undefined) {
      this.#seen.set(key, { sealedDigest: sha256(sealed), contentDigest });
      return 'new';
    }
    return constantTimeEqual(entry.contentDigest, contentDigest) ? 'duplicate' : 'conflict';
  }

  /** Number of slots seen. */
  get size(): number {
    return this.#seen.size;
  }

  clear(): void {
    this.#seen.clear();
  }
}

function slot(from: number, round: number, to: number): string {
  return `${from}/${round}/${to}`;
}
