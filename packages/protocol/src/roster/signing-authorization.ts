/**
 * Signing authorization (ARCHITECTURE.md §4): the exact signing request the platform authorizes
 * for one SIGN session, signed with its Ed25519 authorization key (RFC 8032) like the roster. A
 * co-signer verifies the signature against the key it pinned at pairing and signs only the
 * content and derivation path decoded from these bytes — never a field beside them.
 *
 * One SIGN session signs one message of a transaction; a transaction of n messages runs n
 * sessions, each with its own authorization naming the message's position. An ECDSA session may
 * name a pooled presignature — the PRESIGN session that made it, ahead of time, among the same
 * parties — which each party spends instead of presigning in this session (ARCHITECTURE §3).
 *
 * Canonical encoding, version 2 (integers big-endian; the signature covers exactly these bytes,
 * which begin with the domain tag):
 *
 * ```
 * authorization = u8 len ‖ "countersign/signing-authorization/v2"
 *               | u8 len ‖ sessionId        (16..64 bytes, the SIGN session's MPC sid)
 *               | u8 len ‖ shareSetId       (ASCII [A-Za-z0-9._:-], 1..128)
 *               | u8 len ‖ algorithm        (ECDSA_SECP256K1 | EDDSA_ED25519)
 *               | u8 len ‖ transactionId    (ASCII [A-Za-z0-9._:-], 1..128)
 *               | u16 messageIndex          (position of the message in the transaction)
 *               | u8 depth                  (0..16)
 *               | depth × u32 index         (each < 2^31: non-hardened only)
 *               | u32 len ‖ content         (ECDSA: the 32-byte digest; EdDSA: 1..65536 bytes)
 *               | u64 expiresAt             (milliseconds since the Unix epoch)
 *               | u8 len ‖ presignSessionId (0: nothing pooled — ECDSA presigns in this session,
 *                                            EdDSA runs both FROST rounds; else 16..64 bytes, the
 *                                            PRESIGN session's sid: the pooled ECDSA
 *                                            presignature or FROST nonce set this session spends)
 * signed        = authorization ‖ signature (64)
 * ```
 * @module
 */
import { CanonicalReader, pushUint } from './canonical-reader.js';
import { ROSTER_ID_PATTERN, ROSTER_SIGNATURE_LENGTH } from './roster-encoding.js';

export const SIGNING_AUTHORIZATION_DOMAIN_TAG = 'countersign/signing-authorization/v2';
export const SIGNING_MAX_PATH_DEPTH = 16;
/** Largest EdDSA message one authorization carries. */
export const SIGNING_MAX_CONTENT_LENGTH = 64 * 1024;
/** An ECDSA message is the digest the signature commits to (secp256k1: 32 bytes). */
export const SIGNING_ECDSA_DIGEST_LENGTH = 32;
const HARDENED = 0x80000000;

export type SigningAlgorithm = 'ECDSA_SECP256K1' | 'EDDSA_ED25519';
const ALGORITHM_PATTERN = /^(ECDSA_SECP256K1|EDDSA_ED25519)$/;

/** What the platform authorizes one SIGN session to sign. */
export interface SigningAuthorization {
  readonly sessionId: Uint8Array;
  readonly shareSetId: string;
  readonly algorithm: SigningAlgorithm;
  readonly transactionId: string;
  readonly messageIndex: number;
  /** Non-hardened derivation path from the root key. */
  readonly derivationPath: readonly number[];
  /** ECDSA: the 32-byte digest; EdDSA: the message itself. */
  readonly content: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  readonly expiresAt: number;
  /**
   * The PRESIGN session whose pooled output this session spends (its MPC sid): ECDSA, a DKLs23
   * presignature; EdDSA, a FROST nonce set. Absent: ECDSA presigns in this session first, EdDSA
   * runs both FROST rounds.
   */
  readonly presignSessionId?: Uint8Array;
}

export interface SignedSigningAuthorization {
  readonly authorization: SigningAuthorization;
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

export type SigningAuthorizationErrorCode =
  | 'ERR_SIGNING_AUTHORIZATION_INVALID_ARGUMENT'
  | 'ERR_SIGNING_AUTHORIZATION_MALFORMED';

export class SigningAuthorizationFormatError extends Error {
  readonly code: SigningAuthorizationErrorCode;
  readonly detail: string;

  constructor(code: SigningAuthorizationErrorCode, detail: string) {
    super(
      `${code === 'ERR_SIGNING_AUTHORIZATION_MALFORMED' ? 'malformed' : 'invalid'} signing authorization: ${detail}`,
    );
    this.name = 'SigningAuthorizationFormatError';
    this.code = code;
    this.detail = detail;
  }
}

const encoder = new TextEncoder();
const TAG_BYTES = encoder.encode(SIGNING_AUTHORIZATION_DOMAIN_TAG);
const malformed = (detail: string): SigningAuthorizationFormatError =>
  new SigningAuthorizationFormatError('ERR_SIGNING_AUTHORIZATION_MALFORMED', detail);

/** Content length rule of an algorithm: exact digest for ECDSA, bounded message for EdDSA. */
function contentLengthOk(algorithm: SigningAlgorithm, length: number): boolean {
  return algorithm === 'ECDSA_SECP256K1'
    ? length === SIGNING_ECDSA_DIGEST_LENGTH
    : length >= 1 && length <= SIGNING_MAX_CONTENT_LENGTH;
}

/** Whether every index of `path` is non-hardened and the depth is within bounds. */
export function isNonHardenedPath(path: unknown): path is readonly number[] {
  return (
    Array.isArray(path) &&
    path.length <= SIGNING_MAX_PATH_DEPTH &&
    path.every((i) => Number.isInteger(i) && i >= 0 && i < HARDENED)
  );
}

/** Canonical encoding (the bytes the platform signs); `INVALID_ARGUMENT` on any bad field. */
export function encodeSigningAuthorization(a: SigningAuthorization): Uint8Array {
  const bad = (detail: string): never => {
    throw new SigningAuthorizationFormatError('ERR_SIGNING_AUTHORIZATION_INVALID_ARGUMENT', detail);
  };
  if (typeof a !== 'object' || a === null) bad('not an object');
  if (!(a.sessionId instanceof Uint8Array) || a.sessionId.length < 16 || a.sessionId.length > 64)
    bad('sessionId');
  if (typeof a.shareSetId !== 'string' || !ROSTER_ID_PATTERN.test(a.shareSetId)) bad('shareSetId');
  if (typeof a.algorithm !== 'string' || !ALGORITHM_PATTERN.test(a.algorithm)) bad('algorithm');
  if (typeof a.transactionId !== 'string' || !ROSTER_ID_PATTERN.test(a.transactionId))
    bad('transactionId');
  if (!Number.isInteger(a.messageIndex) || a.messageIndex < 0 || a.messageIndex > 0xffff)
    bad('messageIndex');
  if (!isNonHardenedPath(a.derivationPath)) bad('derivationPath');
  if (!(a.content instanceof Uint8Array) || !contentLengthOk(a.algorithm, a.content.length))
    bad('content');
  if (!Number.isSafeInteger(a.expiresAt) || a.expiresAt < 0) bad('expiresAt');
  const presign = a.presignSessionId;
  if (
    presign !== undefined &&
    (!(presign instanceof Uint8Array) || presign.length < 16 || presign.length > 64)
  )
    bad('presignSessionId');
  const head: number[] = [];
  const bytes8 = (b: Uint8Array): void => {
    head.push(b.length, ...b);
  };
  bytes8(TAG_BYTES);
  bytes8(a.sessionId);
  bytes8(encoder.encode(a.shareSetId));
  bytes8(encoder.encode(a.algorithm));
  bytes8(encoder.encode(a.transactionId));
  pushUint(head, a.messageIndex, 2);
  head.push(a.derivationPath.length);
  for (const i of a.derivationPath) pushUint(head, i, 4);
  pushUint(head, a.content.length, 4);
  const tail: number[] = [];
  pushUint(tail, a.expiresAt, 8);
  tail.push(presign?.length ?? 0, ...(presign ?? []));
  const out = new Uint8Array(head.length + a.content.length + tail.length);
  out.set(head, 0);
  out.set(a.content, head.length);
  out.set(tail, head.length + a.content.length);
  return out;
}

/** Strict decoder of `authorization ‖ signature`. Verifies nothing: check the signature first. */
export function decodeSignedSigningAuthorization(bytes: Uint8Array): SignedSigningAuthorization {
  const r = new CanonicalReader(bytes, 'signing authorization', malformed);
  const tag = r.bytes8(TAG_BYTES.length, TAG_BYTES.length);
  // The tag is public: a plain comparison is fine.
  if (!tag.every((b, i) => b === TAG_BYTES[i])) r.fail('domain tag');
  const sessionId = r.bytes8(16, 64);
  const shareSetId = r.ascii8(ROSTER_ID_PATTERN, 'shareSetId');
  const algorithm = r.ascii8(ALGORITHM_PATTERN, 'algorithm') as SigningAlgorithm;
  const transactionId = r.ascii8(ROSTER_ID_PATTERN, 'transactionId');
  const messageIndex = r.u16();
  const depth = r.u8();
  if (depth > SIGNING_MAX_PATH_DEPTH) r.fail('path too deep');
  const derivationPath: number[] = [];
  for (let i = 0; i < depth; i++) {
    const index = r.u32();
    if (index >= HARDENED) r.fail('hardened index');
    derivationPath.push(index);
  }
  const length = r.u32();
  if (!contentLengthOk(algorithm, length)) r.fail('content length');
  const content = r.take(length);
  const expiresAt = r.u64();
  const presignLength = r.u8();
  if (presignLength !== 0 && (presignLength < 16 || presignLength > 64)) r.fail('presignSessionId');
  const presignSessionId = presignLength === 0 ? undefined : r.take(presignLength);
  const signedBytes = bytes.slice(0, r.position);
  const signature = r.take(ROSTER_SIGNATURE_LENGTH);
  r.end();
  return {
    authorization: {
      sessionId,
      shareSetId,
      algorithm,
      transactionId,
      messageIndex,
      derivationPath,
      content,
      expiresAt,
      ...(presignSessionId === undefined ? {} : { presignSessionId }),
    },
    signedBytes,
    signature,
  };
}
