/**
 * The co-signer's side of the destroy authorization (ARCHITECTURE §3 "Unpair",
 * `countersign/destroy-authorization/v1` in @countersign/protocol): strict decoding, the Ed25519
 * signature against the platform key pinned at pairing (platform-signed.ts), then the job's own
 * facts — same session, workspace, API key, share set and algorithm, not expired. What is
 * destroyed is read from these verified bytes only.
 * @module
 */
import {
  decodeSignedDestroyAuthorization,
  type DestroyAuthorization,
  type LeasedJob,
} from '@countersign/protocol';
import { constantTimeEqual } from '../channel/wire-bytes.js';
import { CosignerError } from '../errors.js';
import { verifyPlatformSigned } from './platform-signed.js';

function refused(detail: string): CosignerError {
  return new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
    detail: `destroy authorization: ${detail}`,
  });
}

/** The verified authorization of `job`'s DESTROY session; throws on any mismatch. */
export function verifyDestroyAuthorization(
  signedAuthorization: string | undefined,
  job: LeasedJob,
  platformKey: Uint8Array,
  now: number = Date.now(),
): DestroyAuthorization {
  const { authorization: a } = verifyPlatformSigned(
    signedAuthorization,
    decodeSignedDestroyAuthorization,
    platformKey,
    refused,
  );
  const sid = Uint8Array.from(Buffer.from(job.sessionId, 'hex'));
  if (a.sessionId.length !== sid.length || !constantTimeEqual(a.sessionId, sid))
    throw refused('another session');
  if (a.workspaceId !== job.workspaceId) throw refused('another workspace');
  if (a.apiKeyId !== job.apiKeyId) throw refused('another API key');
  if (a.shareSetId !== job.shareSetId) throw refused('another share set');
  if (a.algorithm !== job.algorithm) throw refused('another algorithm');
  if (now >= a.expiresAt) throw refused('expired');
  return a;
}
