/**
 * Destroy authorization (ARCHITECTURE.md §3 "Unpair"): the platform's order to a Cloud Co-signer
 * to destroy its share of one share set whose pairing ended, signed with its Ed25519
 * authorization key (RFC 8032) like the roster. A cloud co-signer verifies the signature against
 * the key it pinned at pairing and destroys only the share set these bytes name.
 *
 * The cloud co-signer cannot check that the pairing really ended — that is the platform's record
 * — so a platform that forges one can make the clouds destroy shares, never learn or use one.
 * That is a denial of service while another signer's share set is complete (a new pairing gets a
 * share set dealt from it), and the loss of the root keys when none is (docs/pairing.md).
 *
 * Canonical encoding, version 1 (integers big-endian; the signature covers exactly these bytes,
 * which begin with the domain tag):
 *
 * ```
 * authorization = u8 len ‖ "countersign/destroy-authorization/v1"
 *               | u8 len ‖ sessionId     (16..64 bytes, the DESTROY session's id)
 *               | u8 len ‖ workspaceId   (ASCII [A-Za-z0-9._:-], 1..128)
 *               | u8 len ‖ apiKeyId      (the signer whose pairing ended, idem)
 *               | u8 len ‖ cosignerId    (the co-signer it was paired to, idem)
 *               | u8 len ‖ shareSetId    (idem)
 *               | u8 len ‖ algorithm     (ECDSA_SECP256K1 | EDDSA_ED25519)
 *               | u8 len ‖ reason        (UNPAIRED_BY_OWNER | UNPAIRED_BY_COSIGNER |
 *                                          MADE_AFTER_UNPAIR)
 *               | u64 expiresAt          (milliseconds since the Unix epoch)
 * signed        = authorization ‖ signature (64)
 * ```
 * @module
 */
import { CanonicalReader, pushUint } from './canonical-reader.js';
import { ROSTER_ID_PATTERN, ROSTER_SIGNATURE_LENGTH } from './roster-encoding.js';
import type { SigningAlgorithm } from './signing-authorization.js';

export const DESTROY_AUTHORIZATION_DOMAIN_TAG = 'countersign/destroy-authorization/v1';

/**
 * Why the share set goes: its pairing ended by the Owner's COSIGNER_UNPAIR decision (console or
 * API) or by the signer's co-signer itself (`cosigner unpair`), or the KEYGEN or RESHARE that
 * made it finished after its pairing had ended.
 */
export type DestroyReason = 'UNPAIRED_BY_OWNER' | 'UNPAIRED_BY_COSIGNER' | 'MADE_AFTER_UNPAIR';
export const DESTROY_REASONS: readonly DestroyReason[] = [
  'UNPAIRED_BY_OWNER',
  'UNPAIRED_BY_COSIGNER',
  'MADE_AFTER_UNPAIR',
];

/** Which share set a cloud co-signer is to destroy, and why. */
export interface DestroyAuthorization {
  readonly sessionId: Uint8Array;
  readonly workspaceId: string;
  readonly apiKeyId: string;
  readonly cosignerId: string;
  readonly shareSetId: string;
  readonly algorithm: SigningAlgorithm;
  readonly reason: DestroyReason;
  /** Milliseconds since the Unix epoch. */
  readonly expiresAt: number;
}

export interface SignedDestroyAuthorization {
  readonly authorization: DestroyAuthorization;
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

export type DestroyAuthorizationErrorCode =
  | 'ERR_DESTROY_AUTHORIZATION_INVALID_ARGUMENT'
  | 'ERR_DESTROY_AUTHORIZATION_MALFORMED';

export class DestroyAuthorizationFormatError extends Error {
  readonly code: DestroyAuthorizationErrorCode;
  readonly detail: string;

  constructor(code: DestroyAuthorizationErrorCode, detail: string) {
    super(
      `${code === 'ERR_DESTROY_AUTHORIZATION_MALFORMED' ? 'malformed' : 'invalid'} destroy authorization: ${detail}`,
    );
    this.name = 'DestroyAuthorizationFormatError';
    this.code = code;
    this.detail = detail;
  }
}

const encoder = new TextEncoder();
const TAG_BYTES = encoder.encode(DESTROY_AUTHORIZATION_DOMAIN_TAG);
const ALGORITHM_PATTERN = /^(ECDSA_SECP256K1|EDDSA_ED25519)$/;
const REASON_PATTERN = /^(UNPAIRED_BY_OWNER|UNPAIRED_BY_COSIGNER|MADE_AFTER_UNPAIR)$/;
const ID_FIELDS = ['workspaceId', 'apiKeyId', 'cosignerId', 'shareSetId'] as const;
const malformed = (detail: string): DestroyAuthorizationFormatError =>
  new DestroyAuthorizationFormatError('ERR_DESTROY_AUTHORIZATION_MALFORMED', detail);

/** Canonical encoding (the bytes the platform signs); `INVALID_ARGUMENT` on any bad field. */
export function encodeDestroyAuthorization(a: DestroyAuthorization): Uint8Array {
  const bad = (detail: string): never => {
    throw new DestroyAuthorizationFormatError('ERR_DESTROY_AUTHORIZATION_INVALID_ARGUMENT', detail);
  };
  if (typeof a !== 'object' || a === null) bad('not an object');
  if (!(a.sessionId instanceof Uint8Array) || a.sessionId.length < 16 || a.sessionId.length > 64)
    bad('sessionId');
  for (const field of ID_FIELDS) {
    const v = a[field];
    if (typeof v !== 'string' || !ROSTER_ID_PATTERN.test(v)) bad(field);
  }
  if (typeof a.algorithm !== 'string' || !ALGORITHM_PATTERN.test(a.algorithm)) bad('algorithm');
  if (typeof a.reason !== 'string' || !REASON_PATTERN.test(a.reason)) bad('reason');
  if (!Number.isSafeInteger(a.expiresAt) || a.expiresAt < 0) bad('expiresAt');
  const out: number[] = [];
  const bytes8 = (b: Uint8Array): void => {
    out.push(b.length, ...b);
  };
  bytes8(TAG_BYTES);
  bytes8(a.sessionId);
  for (const field of ID_FIELDS) bytes8(encoder.encode(a[field]));
  bytes8(encoder.encode(a.algorithm));
  bytes8(encoder.encode(a.reason));
  pushUint(out, a.expiresAt, 8);
  return Uint8Array.from(out);
}

/** Strict decoder of `authorization ‖ signature`. Verifies nothing: check the signature first. */
export function decodeSignedDestroyAuthorization(bytes: Uint8Array): SignedDestroyAuthorization {
  const r = new CanonicalReader(bytes, 'destroy authorization', malformed);
  const tag = r.bytes8(TAG_BYTES.length, TAG_BYTES.length);
  // The tag is public: a plain comparison is fine.
  if (!tag.every((b, i) => b === TAG_BYTES[i])) r.fail('domain tag');
  const sessionId = r.bytes8(16, 64);
  const ids = {} as Record<(typeof ID_FIELDS)[number], string>;
  for (const field of ID_FIELDS) ids[field] = r.ascii8(ROSTER_ID_PATTERN, field);
  const algorithm = r.ascii8(ALGORITHM_PATTERN, 'algorithm') as SigningAlgorithm;
  const reason = r.ascii8(REASON_PATTERN, 'reason') as DestroyReason;
  const expiresAt = r.u64();
  const signedBytes = bytes.slice(0, r.position);
  const signature = r.take(ROSTER_SIGNATURE_LENGTH);
  r.end();
  return {
    authorization: { sessionId, ...ids, algorithm, reason, expiresAt },
    signedBytes,
    signature,
  };
}
