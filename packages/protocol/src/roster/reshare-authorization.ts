/**
 * Reshare authorization (ARCHITECTURE.md §3 "Next signer", §5): what the platform authorizes one
 * RESHARE session to do, signed with its Ed25519 authorization key (RFC 8032) like the roster. A
 * co-signer verifies the signature against the key it pinned at pairing and takes the reshare's
 * parameters — who deals, who receives, the threshold, the old share set — from these bytes only.
 *
 * It also names the pairing that authorized the new signer (the Owner's approval request, the new
 * signer's API key and co-signer), so the existing signer's co-signer can show its Callback
 * Handler what it is asked to extend the key to (`config_change_sign_request`, type
 * PAIR_API_KEY). The co-signer cannot verify the Owner's approval itself — it is a console
 * decision — only that the platform asserts it under its key (packages/platform/docs/pairing.md,
 * "Later signers").
 *
 * Canonical encoding, version 1 (integers big-endian; the signature covers exactly these bytes,
 * which begin with the domain tag):
 *
 * ```
 * authorization = u8 len ‖ "countersign/reshare-authorization/v1"
 *               | u8 len ‖ sessionId          (16..64 bytes, the RESHARE session's MPC sid)
 *               | u8 len ‖ algorithm          (ECDSA_SECP256K1 | EDDSA_ED25519)
 *               | u8 len ‖ oldShareSetId      (ASCII [A-Za-z0-9._:-], 1..128)
 *               | u8 len ‖ newShareSetId      (idem; the roster's share set)
 *               | u8 len ‖ oldSignerId        (the existing signer's API key, idem)
 *               | u8 len ‖ newSignerId        (the new signer's API key, idem)
 *               | u8 len ‖ newCosignerId      (the new signer's co-signer, idem)
 *               | u8 len ‖ approvalRequestId  (the Owner's COSIGNER_PAIR approval, idem)
 *               | u8 |D| ‖ |D| × u16 dealer   (strictly ascending)
 *               | u8 |N| ‖ |N| × u16 receiver (strictly ascending)
 *               | u8 threshold
 *               | u32 len ‖ oldShareSet       (the old share set's public part, mpc encoding)
 *               | u64 expiresAt               (milliseconds since the Unix epoch)
 * signed        = authorization ‖ signature (64)
 * ```
 * @module
 */
import { CanonicalReader, pushUint } from './canonical-reader.js';
import {
  ROSTER_ID_PATTERN,
  ROSTER_MAX_PARTIES,
  ROSTER_SIGNATURE_LENGTH,
} from './roster-encoding.js';
import type { SigningAlgorithm } from './signing-authorization.js';

export const RESHARE_AUTHORIZATION_DOMAIN_TAG = 'countersign/reshare-authorization/v1';
/** Largest public share set carried (64 parties of 33-byte points and their header). */
export const RESHARE_MAX_SHARE_SET_LENGTH = 4096;

/** What the platform authorizes one RESHARE session to do. */
export interface ReshareAuthorization {
  readonly sessionId: Uint8Array;
  readonly algorithm: SigningAlgorithm;
  /** The share set the dealers re-deal (the existing signer's). */
  readonly oldShareSetId: string;
  /** The share set the receivers make (the roster's shareSetId). */
  readonly newShareSetId: string;
  readonly oldSignerId: string;
  readonly newSignerId: string;
  readonly newCosignerId: string;
  readonly approvalRequestId: string;
  readonly dealers: readonly number[];
  readonly receivers: readonly number[];
  readonly threshold: number;
  /** The old share set's public part (`encodePublicShareSet` of @countersign/mpc). */
  readonly oldShareSet: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  readonly expiresAt: number;
}

export interface SignedReshareAuthorization {
  readonly authorization: ReshareAuthorization;
  readonly signedBytes: Uint8Array;
  readonly signature: Uint8Array;
}

export type ReshareAuthorizationErrorCode =
  | 'ERR_RESHARE_AUTHORIZATION_INVALID_ARGUMENT'
  | 'ERR_RESHARE_AUTHORIZATION_MALFORMED';

export class ReshareAuthorizationFormatError extends Error {
  readonly code: ReshareAuthorizationErrorCode;
  readonly detail: string;

  constructor(code: ReshareAuthorizationErrorCode, detail: string) {
    super(
      `${code === 'ERR_RESHARE_AUTHORIZATION_MALFORMED' ? 'malformed' : 'invalid'} reshare authorization: ${detail}`,
    );
    this.name = 'ReshareAuthorizationFormatError';
    this.code = code;
    this.detail = detail;
  }
}

const encoder = new TextEncoder();
const TAG_BYTES = encoder.encode(RESHARE_AUTHORIZATION_DOMAIN_TAG);
const ALGORITHM_PATTERN = /^(ECDSA_SECP256K1|EDDSA_ED25519)$/;
const ID_FIELDS = [
  'oldShareSetId',
  'newShareSetId',
  'oldSignerId',
  'newSignerId',
  'newCosignerId',
  'approvalRequestId',
] as const;
const malformed = (detail: string): ReshareAuthorizationFormatError =>
  new ReshareAuthorizationFormatError('ERR_RESHARE_AUTHORIZATION_MALFORMED', detail);

/** 1..64 party indices, each 1..65535, strictly ascending. */
function isIndexList(list: unknown): list is readonly number[] {
  return (
    Array.isArray(list) &&
    list.length >= 1 &&
    list.length <= ROSTER_MAX_PARTIES &&
    list.every(
      (i, k) =>
        Number.isInteger(i) && i >= 1 && i <= 0xffff && (k === 0 || i > (list[k - 1] as number)),
    )
  );
}

/** Canonical encoding (the bytes the platform signs); `INVALID_ARGUMENT` on any bad field. */
export function encodeReshareAuthorization(a: ReshareAuthorization): Uint8Array {
  const bad = (detail: string): never => {
    throw new ReshareAuthorizationFormatError('ERR_RESHARE_AUTHORIZATION_INVALID_ARGUMENT', detail);
  };
  if (typeof a !== 'object' || a === null) bad('not an object');
  if (!(a.sessionId instanceof Uint8Array) || a.sessionId.length < 16 || a.sessionId.length > 64)
    bad('sessionId');
  if (typeof a.algorithm !== 'string' || !ALGORITHM_PATTERN.test(a.algorithm)) bad('algorithm');
  for (const field of ID_FIELDS) {
    const v = a[field];
    if (typeof v !== 'string' || !ROSTER_ID_PATTERN.test(v)) bad(field);
  }
  if (!isIndexList(a.dealers)) bad('dealers');
  if (!isIndexList(a.receivers)) bad('receivers');
  if (!Number.isInteger(a.threshold) || a.threshold < 2 || a.threshold > a.receivers.length)
    bad('threshold');
  if (
    !(a.oldShareSet instanceof Uint8Array) ||
    a.oldShareSet.length === 0 ||
    a.oldShareSet.length > RESHARE_MAX_SHARE_SET_LENGTH
  )
    bad('oldShareSet');
  if (!Number.isSafeInteger(a.expiresAt) || a.expiresAt < 0) bad('expiresAt');
  const out: number[] = [];
  const bytes8 = (b: Uint8Array): void => {
    out.push(b.length, ...b);
  };
  bytes8(TAG_BYTES);
  bytes8(a.sessionId);
  bytes8(encoder.encode(a.algorithm));
  for (const field of ID_FIELDS) bytes8(encoder.encode(a[field]));
  for (const list of [a.dealers, a.receivers]) {
    out.push(list.length);
    for (const i of list) pushUint(out, i, 2);
  }
  out.push(a.threshold);
  pushUint(out, a.oldShareSet.length, 4);
  out.push(...a.oldShareSet);
  pushUint(out, a.expiresAt, 8);
  return Uint8Array.from(out);
}

function readIndexList(r: CanonicalReader, field: string): number[] {
  const n = r.u8();
  if (n < 1 || n > ROSTER_MAX_PARTIES) r.fail(`${field} count`);
  const list: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = r.u16();
    if (i < 1 || (k > 0 && i <= list[k - 1]!)) r.fail(`${field} not strictly ascending`);
    list.push(i);
  }
  return list;
}

/** Strict decoder of `authorization ‖ signature`. Verifies nothing: check the signature first. */
export function decodeSignedReshareAuthorization(bytes: Uint8Array): SignedReshareAuthorization {
  const r = new CanonicalReader(bytes, 'reshare authorization', malformed);
  const tag = r.bytes8(TAG_BYTES.length, TAG_BYTES.length);
  // The tag is public: a plain comparison is fine.
  if (!tag.every((b, i) => b === TAG_BYTES[i])) r.fail('domain tag');
  const sessionId = r.bytes8(16, 64);
  const algorithm = r.ascii8(ALGORITHM_PATTERN, 'algorithm') as SigningAlgorithm;
  const ids = {} as Record<(typeof ID_FIELDS)[number], string>;
  for (const field of ID_FIELDS) ids[field] = r.ascii8(ROSTER_ID_PATTERN, field);
  const dealers = readIndexList(r, 'dealers');
  const receivers = readIndexList(r, 'receivers');
  const threshold = r.u8();
  if (threshold < 2 || threshold > receivers.length) r.fail('threshold');
  const oldShareSet = r.bytes32(1, RESHARE_MAX_SHARE_SET_LENGTH);
  const expiresAt = r.u64();
  const signedBytes = bytes.slice(0, r.position);
  const signature = r.take(ROSTER_SIGNATURE_LENGTH);
  r.end();
  return {
    authorization: {
      sessionId,
      algorithm,
      ...ids,
      dealers,
      receivers,
      threshold,
      oldShareSet,
      expiresAt,
    },
    signedBytes,
    signature,
  };
}
