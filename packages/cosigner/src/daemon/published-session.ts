/**
 * A job's session as the platform publishes it, verified: the roster against the pinned platform
 * key and the job (this session, share set and purpose; this party exactly once), the job's
 * threshold against the roster (but for RESHARE), and — for a share set that exists already —
 * every party against the parties pinned when it was stored (pinned-parties.ts, pool review M2).
 * The parties come from the signed roster only.
 * @module
 */
import type { LeasedJob, RosterPurpose, SessionResponse } from '@countersign/protocol';
import { verifyRoster, type VerifiedRoster } from '../channel/roster.js';
import { CosignerError } from '../errors.js';
import type { JobContext } from './job-context.js';
import { assertPinnedParties } from './pinned-parties.js';

export interface PublishedSession {
  /** The MPC sid (the roster's session id). */
  readonly sid: Uint8Array;
  readonly roster: VerifiedRoster;
  /** The platform's answer, for what a purpose adds (a SIGN session's authorization). */
  readonly published: SessionResponse;
}

export async function publishedSession(
  ctx: JobContext,
  job: LeasedJob,
  purpose: RosterPurpose,
): Promise<PublishedSession> {
  const sid = Uint8Array.from(Buffer.from(job.sessionId, 'hex'));
  // The lease carries the session as the platform published it; verified below as if fetched.
  const published =
    job.session ?? (await ctx.client.session(await ctx.accessToken(), job.sessionId));
  const roster = verifyRoster(Uint8Array.from(Buffer.from(published.signedRoster, 'base64')), {
    platformKey: ctx.platformKey,
    me: ctx.identity.publicKeys(),
    expected: { sessionId: sid, shareSetId: job.shareSetId, purpose },
  });
  // A reshare's roster holds its dealers and its receivers: its threshold is checked against the
  // receivers of its signed authorization (reshare-authorization.ts).
  if (purpose !== 'RESHARE' && job.threshold !== roster.indices.length)
    throw new CosignerError('ERR_COSIGNER_PLATFORM_RESPONSE', {
      detail: 'job threshold differs from the roster',
    });
  // KEYGEN and RESHARE name the share set they make, which has no parties yet (a reshare's
  // dealers are checked against the old share set's pin in reshare-job.ts); every other purpose
  // works with one that exists, and must seat the parties that hold it.
  if (purpose !== 'KEYGEN' && purpose !== 'RESHARE')
    assertPinnedParties(ctx.store, roster.shareSetId, roster.parties);
  return { sid, roster, published };
}
