/**
 * The co-signer's MPC calls (ARCHITECTURE §5, docs/mpc-relay.md): work by long poll, session
 * rosters, the message relay, job results. All need a co-signer access token; the sender of a
 * message is always the authenticated co-signer's roster seat, never a field of the request.
 */
import {
  ErrorBodySchema,
  JobParamsSchema,
  JobReadyRequestSchema,
  JobReadyResponseSchema,
  JobReleaseQuerySchema,
  JobReleaseResponseSchema,
  JobResultRequestSchema,
  JobResultResponseSchema,
  MessagesQuerySchema,
  MessagesResponseSchema,
  PostMessagesRequestSchema,
  PostMessagesResponseSchema,
  OfflineResponseSchema,
  ReleaseLeasesResponseSchema,
  DiscardPoolResponseSchema,
  SessionParamsSchema,
  SessionResponseSchema,
  WorkQuerySchema,
  WorkResponseSchema,
} from '@countersign/protocol';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FailureLimiter } from '../auth/failure-limiter.js';
import { PlatformError } from '../errors.js';

const errors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  404: ErrorBodySchema,
  409: ErrorBodySchema,
};
/**
 * Pool discards a co-signer may ask for in a minute. A daemon asks once per restored store; each
 * call locks and scans the pools made with it and may end sessions, so a token holder calling in
 * a loop is refused instead (pooled EdDSA review I1).
 */
export const DISCARDS_PER_MINUTE = 5;

class TooManyDiscards extends PlatformError {
  constructor() {
    super(
      'ERR_COSIGNER_TOO_MANY_DISCARDS',
      'RATE_LIMITED',
      429,
      `More than ${DISCARDS_PER_MINUTE} pool discards from this co-signer within a minute; try again later`,
    );
  }
}
const tags = ['Co-signer protocol'];
const security = [{ cosignerAccessToken: [] }];
/** A POST of MAX_MESSAGES_PER_POST messages is bounded by the per-message size check; this caps the body. */
const MESSAGES_BODY_LIMIT = 8 * 1024 * 1024;

export function mpcRelayRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { cosignerJobs, mpcSessions } = app.services;
  // Counts calls, not failures: the limiter's window is what a discard needs. The call past the
  // limit is the first one it answers 'suppressed'.
  const discards = new FailureLimiter({
    maxFailures: DISCARDS_PER_MINUTE,
    windowMs: 60_000,
    maxTracked: 100_000,
  });

  r.get(
    '/cosigner/v1/work',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary: 'Long poll for work: answers at once with a leased job when one is available',
        querystring: WorkQuerySchema,
        response: { 200: WorkResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      // The response's close: answered, or the co-signer hung up mid-wait.
      const hungUp = new AbortController();
      reply.raw.once('close', () => hungUp.abort());
      // Polling for work ends a clean stop the co-signer announced (POST /cosigner/v1/offline).
      await app.services.cosignerTokens.markServing(callerOf(request));
      const job = await cosignerJobs.next(
        callerOf(request),
        (request.query.wait ?? 0) * 1000,
        hungUp.signal,
        request.query.held === true,
      );
      return { jobs: job ? [job] : [] };
    },
  );

  r.post(
    '/cosigner/v1/leases/release',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary:
          "Hand back the caller's leases (a daemon starting: its predecessor's jobs are offered again at once)",
        response: { 200: ReleaseLeasesResponseSchema, ...errors },
      },
    },
    async (request) => ({ released: await cosignerJobs.releaseLeases(callerOf(request)) }),
  );

  r.post(
    '/cosigner/v1/presignatures/discard',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary:
          'The caller no longer holds its pooled presignatures and nonce sets (a restored store): none made with it is named again',
        response: { 200: DiscardPoolResponseSchema, ...errors, 429: ErrorBodySchema },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      // Counted before the work: a refused call is counted too, so a loop stays refused.
      if (discards.record(caller) === 'suppressed') throw new TooManyDiscards();
      return { discarded: await app.services.presignatures.discardMadeWith(caller) };
    },
  );

  r.post(
    '/cosigner/v1/offline',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary:
          'The caller stops cleanly: new signing goes to other signers until it polls for work again (a daemon stopping)',
        response: { 200: OfflineResponseSchema, ...errors },
      },
    },
    async (request) => {
      await app.services.cosignerTokens.markOffline(callerOf(request));
      return { offline: true as const };
    },
  );

  r.get(
    '/cosigner/v1/sessions/:sessionId',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary: "A session's roster, signed by the platform's authorization key",
        params: SessionParamsSchema,
        response: { 200: SessionResponseSchema, ...errors },
      },
    },
    (request) => mpcSessions.get(request.params.sessionId, callerOf(request)),
  );

  r.post(
    '/cosigner/v1/sessions/:sessionId/messages',
    {
      bodyLimit: MESSAGES_BODY_LIMIT,
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary: 'Relay sealed MPC messages to the other parties of the session',
        params: SessionParamsSchema,
        body: PostMessagesRequestSchema,
        response: { 200: PostMessagesResponseSchema, ...errors },
      },
    },
    async (request) => ({
      accepted: await mpcSessions.post(request.params.sessionId, callerOf(request), request.body),
    }),
  );

  r.get(
    '/cosigner/v1/sessions/:sessionId/messages',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary: 'Long poll for messages addressed to me or broadcast, after a position',
        params: SessionParamsSchema,
        querystring: MessagesQuerySchema,
        response: { 200: MessagesResponseSchema, ...errors },
      },
    },
    (request) =>
      mpcSessions.read(
        request.params.sessionId,
        callerOf(request),
        request.query.after ?? 0,
        (request.query.wait ?? 0) * 1000,
      ),
  );

  r.post(
    '/cosigner/v1/jobs/:jobId/ready',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary:
          "A pooled EdDSA signing's lease holder may sign: the parties held back for it may run now",
        params: JobParamsSchema,
        body: JobReadyRequestSchema,
        response: { 200: JobReadyResponseSchema, ...errors },
      },
    },
    async (request) => {
      const jobId = request.params.jobId.toLowerCase();
      const released = await cosignerJobs.ready(callerOf(request), jobId, request.body.leaseId);
      return { jobId, released };
    },
  );

  r.get(
    '/cosigner/v1/jobs/:jobId/release',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary:
          'Long poll by the holder of a job leased while held: answers once the job was released and may be computed',
        params: JobParamsSchema,
        querystring: JobReleaseQuerySchema,
        response: { 200: JobReleaseResponseSchema, ...errors },
      },
    },
    async (request, reply) => {
      const hungUp = new AbortController();
      reply.raw.once('close', () => hungUp.abort());
      const jobId = request.params.jobId.toLowerCase();
      const released = await cosignerJobs.awaitRelease(
        callerOf(request),
        jobId,
        request.query.leaseId,
        (request.query.wait ?? 0) * 1000,
        hungUp.signal,
      );
      return { jobId, released };
    },
  );

  r.post(
    '/cosigner/v1/jobs/:jobId/result',
    {
      config: { permission: 'cosigner' },
      schema: {
        tags,
        security,
        summary: "A job's outcome, by its lease holder: DONE with the result, or FAILED",
        params: JobParamsSchema,
        body: JobResultRequestSchema,
        response: { 200: JobResultResponseSchema, ...errors },
      },
    },
    async (request) => {
      const jobId = request.params.jobId.toLowerCase();
      const done = await cosignerJobs.report(callerOf(request), jobId, request.body);
      return { jobId, status: done.status };
    },
  );
}

function callerOf(request: FastifyRequest): string {
  if (!request.cosigner) throw new Error('co-signer route reached without authentication');
  return request.cosigner.cosignerId;
}
