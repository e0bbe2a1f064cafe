/**
 * The co-signer's side of the reshare authorization (ARCHITECTURE §3 "Next signer",
 * `countersign/reshare-authorization/v1` in @countersign/protocol): strict decoding, the Ed25519
 * signature against the platform key pinned at pairing (RFC 8032, strict: not ZIP-215), then the
 * job's and the verified roster's own facts — same session, algorithm and new share set, the
 * job's API key is the new signer, not expired; the roster's parties are exactly the dealers and
 * the receivers; exactly one receiver is new, it sits in the roster as the new signer's
 * co-signer; the threshold is the receivers' count (n-of-n, ARCHITECTURE §3). The reshare's
 * parameters are read from these verified bytes only.
 * @module
 */
import {
  decodeSignedReshareAuthorization,
  type LeasedJob,
  type ReshareAuthorization,
} from '@countersign/protocol';
import type { VerifiedRoster } from '../channel/roster.js';
import { constantTimeEqual } from '../channel/wire-bytes.js';
import { CosignerError } from '../errors.js';
import { verifyPlatformSigned } from './platform-signed.js';

function refused(detail: string): CosignerError {
  return new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
    detail: `reshare authorization: ${detail}`,
  });
}

/** The verified authorization of `job`'s RESHARE session; throws on any mismatch. */
export function verifyReshareAuthorization(
  signedAuthorization: string | undefined,
  job: LeasedJob,
  roster: VerifiedRoster,
  platformKey: Uint8Array,
  now: number = Date.now(),
): ReshareAuthorization {
  const { authorization: a } = verifyPlatformSigned(
    signedAuthorization,
    decodeSignedReshareAuthorization,
    platformKey,
    refused,
  );
  const sid = Uint8Array.from(Buffer.from(job.sessionId, 'hex'));
  if (a.sessionId.length !== sid.length || !constantTimeEqual(a.sessionId, sid))
    throw refused('another session');
  if (a.newShareSetId !== job.shareSetId || a.oldShareSetId === a.newShareSetId)
    throw refused('another share set');
  if (a.algorithm !== job.algorithm) throw refused('another algorithm');
  if (a.newSignerId !== job.apiKeyId || a.oldSignerId === a.newSignerId)
    throw refused('another signer');
  if (now >= a.expiresAt) throw refused('expired');
  const union = [...new Set([...a.dealers, ...a.receivers])].sort((x, y) => x - y);
  const indices = roster.indices;
  if (union.length !== indices.length || union.some((i, k) => i !== indices[k]))
    throw refused('the roster is not the dealers and receivers');
  const newMembers = a.receivers.filter((i) => !a.dealers.includes(i));
  if (newMembers.length !== 1) throw refused('exactly one receiver must be new');
  if (roster.party(newMembers[0]!)?.cosignerId !== a.newCosignerId)
    throw refused("the new member is not the new signer's co-signer");
  if (a.threshold !== a.receivers.length || job.threshold !== a.threshold)
    throw refused('threshold');
  return a;
}
