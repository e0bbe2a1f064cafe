/**
 * Presignatures of DKLs23 (specs/dkls23.md, "Signing", R3 output and "Consumption rule";
 * ARCHITECTURE.md §3 "Presignatures"): the per-party output `(sid, S, R, φ_i, u_i, v_i)` of a
 * presigning session, bound to its share set, its versioned encoding for encrypted storage, and
 * the store that makes each presignature usable once.
 *
 * Format "CSPS" version 1 (integers big-endian):
 * ```
 * "CSPS" | u8 1 | 32 share-set id | u8 len ‖ sid | u8 t ‖ t × u16 signers | u16 index
 *        | 33 R | 32 φ_i | 32 u_i | 32 v_i
 * ```
 * @module
 */
import { ByteReader, ByteWriter, wipe } from '../bytes.js';
import { secp256k1Suite } from '../curve-suite.js';
import { MpcError } from '../errors.js';
import { MAX_SID_LENGTH, MIN_SID_LENGTH } from '../message.js';
import { normalizeParties } from '../party-set.js';
import { INSPECT, inspectSummary, REDACTED } from '../redact.js';
import { dkls23Hasher } from './hashing.js';

/** One party's presignature. φ, u, v are secret; wipe after use. */
export interface Dkls23Presignature {
  /** Identifier of the share set it was made with ({@link shareSetId}). */
  readonly shareSetId: Uint8Array;
  /** The presigning session's id. */
  readonly sid: Uint8Array;
  /** The signing set S, ascending. */
  readonly signers: readonly number[];
  readonly index: number;
  /** R = Σ R_j, 33-byte compressed. */
  readonly R: Uint8Array;
  readonly phi: Uint8Array;
  readonly u: Uint8Array;
  readonly v: Uint8Array;
}

const MAGIC = Uint8Array.of(0x43, 0x53, 0x50, 0x53); // "CSPS"
const VERSION = 1;

/** The id under which a presignature is marked spent (equal for every member of S). */
export function presignatureId(p: Pick<Dkls23Presignature, 'shareSetId' | 'sid'>): Uint8Array {
  return dkls23Hasher.hash('presignature', p.shareSetId, p.sid);
}

export function exportPresignature(p: Dkls23Presignature): Uint8Array {
  const w = new ByteWriter().raw(MAGIC).u8(VERSION).raw(p.shareSetId).u8(p.sid.length).raw(p.sid);
  w.u8(p.signers.length);
  for (const s of p.signers) w.u16(s);
  return w.u16(p.index).raw(p.R).raw(p.phi).raw(p.u).raw(p.v).finish();
}

/** Strict decoder; throws `ERR_MPC_MALFORMED` / `ERR_MPC_PRESIGNATURE` / point and scalar errors. */
export function importPresignature(bytes: Uint8Array): Dkls23Presignature {
  const r = new ByteReader(bytes, 'presignature');
  if (!r.take(4).every((b, i) => b === MAGIC[i])) r.fail('bad magic');
  if (r.u8() !== VERSION) r.fail('version');
  const shareSetId = r.take(32);
  const sidLength = r.u8();
  if (sidLength < MIN_SID_LENGTH || sidLength > MAX_SID_LENGTH) r.fail('sid length');
  const sid = r.take(sidLength);
  const count = r.u8();
  if (count < 2) r.fail('signers');
  const list = Array.from({ length: count }, () => r.u16());
  const index = r.u16();
  const R = r.take(33);
  const phi = r.take(32);
  const u = r.take(32);
  const v = r.take(32);
  r.end();
  let signers: number[];
  try {
    signers = normalizeParties(list, 'signers');
  } catch (e) {
    return r.fail(e instanceof MpcError ? e.code : 'signers');
  }
  if (signers.some((s, i) => s !== list[i]) || !signers.includes(index))
    throw new MpcError('ERR_MPC_PRESIGNATURE', { detail: 'signers' });
  secp256k1Suite.decodePoint(R);
  secp256k1Suite.decodeScalar(phi);
  secp256k1Suite.decodeScalar(u, undefined, true);
  secp256k1Suite.decodeScalar(v, undefined, true);
  return redactPresignature({ shareSetId, sid, signers, index, R, phi, u, v });
}

/**
 * Gives a presignature non-enumerable `toJSON` and `util.inspect` hooks that print its public
 * part only (CONVENTIONS.md "Secrets"; the same treatment as key shares in `key-share.ts`).
 */
export function redactPresignature<T extends Dkls23Presignature>(p: T): T {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const summary = (): Record<string, unknown> => ({
    shareSetId: hex(p.shareSetId),
    sid: hex(p.sid),
    signers: [...p.signers],
    index: p.index,
    R: hex(p.R),
    phi: REDACTED,
    u: REDACTED,
    v: REDACTED,
  });
  Object.defineProperty(p, 'toJSON', { value: summary, enumerable: false, configurable: true });
  Object.defineProperty(p, INSPECT, {
    value: (_d: number, options: unknown, inspect?: (v: unknown, o?: unknown) => string) =>
      inspectSummary('Presignature', summary(), options, inspect),
    enumerable: false,
    configurable: true,
  });
  return p;
}

export function wipePresignature(p: Dkls23Presignature): void {
  wipe(p.phi, p.u, p.v);
}

/**
 * Where presignatures are marked spent. The co-signer backs it with durable storage
 * (ARCHITECTURE.md §3): `markSpent` must record the id atomically and durably *before*
 * resolving, and resolve `false` if the id was already recorded. A crash after it resolved
 * burns the presignature; it is never re-sent (specs/dkls23.md, "Consumption rule").
 */
export interface PresignatureStore {
  markSpent(id: Uint8Array): Promise<boolean>;
}

/** An in-memory store, for tests and single-process tools. */
export class InMemoryPresignatureStore implements PresignatureStore {
  readonly #spent = new Set<string>();

  markSpent(id: Uint8Array): Promise<boolean> {
    const key = Buffer.from(id).toString('hex');
    if (this.#spent.has(key)) return Promise.resolve(false);
    this.#spent.add(key);
    return Promise.resolve(true);
  }
}
