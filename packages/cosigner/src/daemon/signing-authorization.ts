/**
 * The co-signer's side of the signing authorization (ARCHITECTURE §4 steps 3–4,
 * `countersign/signing-authorization/v2` in @countersign/protocol): strict decoding, the Ed25519
 * signature against the platform key pinned at pairing (RFC 8032, strict: not ZIP-215), then
 * the job's own facts — same session, share set and algorithm, not expired. What is signed is
 * read from the verified bytes only.
 * @module
 */
import {
  decodeSignedSigningAuthorization,
  type LeasedJob,
  type SigningAuthorization,
} from '@countersign/protocol';
import { constantTimeEqual } from '../channel/wire-bytes.js';
import { CosignerError } from '../errors.js';
import { verifyPlatformSigned } from './platform-signed.js';

function refused(detail: string): CosignerError {
  return new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
    detail: `signing authorization: ${detail}`,
  });
}

/** The verified authorization of `job`'s SIGN session; throws on any mismatch. */
export function verifySigningAuthorization(
  signedAuthorization: string | undefined,
  job: LeasedJob,
  platformKey: Uint8Array,
  now: number = Date.now(),
): SigningAuthorization {
  const { authorization } = verifyPlatformSigned(
    signedAuthorization,
    decodeSignedSigningAuthorization,
    platformKey,
    refused,
  );
  const sid = Uint8Array.from(Buffer.from(job.sessionId, 'hex'));
  if (
    authorization.sessionId.length !== sid.length ||
    !constantTimeEqual(authorization.sessionId, sid)
  )
    throw refused('another session');
  if (authorization.shareSetId !== job.shareSetId) throw refused('another share set');
  if (authorization.algorithm !== job.algorithm) throw refused('another algorithm');
  if (now >= authorization.expiresAt) throw refused('expired');
  return authorization;
}
