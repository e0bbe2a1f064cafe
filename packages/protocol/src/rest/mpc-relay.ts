/**
 * The co-signer's MPC work (ARCHITECTURE.md §5): jobs leased by long poll, session rosters signed
 * by the platform's authorization key, and the message relay. The platform relays message
 * payloads as opaque bytes (sealed by the parties' secure channel, cosigner docs/channel.md);
 * the routing fields beside them are only hints, the receiver trusts the signed bytes.
 * See packages/platform/docs/mpc-relay.md.
 */
import { Type, type Static } from 'typebox';

/** Longest long poll, seconds. */
export const MAX_WAIT_SECONDS = 30;
/** Largest sealed message the relay accepts (bytes, before base64). */
export const MAX_RELAY_MESSAGE_BYTES = 2 * 1024 * 1024;
/** Most messages in one POST. */
export const MAX_MESSAGES_PER_POST = 16;
/** Most messages one answer carries. */
export const MAX_MESSAGES_PER_ANSWER = 64;

/** 32 random bytes as 64 lowercase hex digits: the MPC session id (the roster's sessionId). */
export const SessionIdSchema = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Base64Schema = (maxBytes: number) =>
  Type.String({
    pattern: '^[A-Za-z0-9+/]*={0,2}$',
    maxLength: 4 * Math.ceil(maxBytes / 3),
    description: 'standard base64',
  });
const HexKeySchema = Type.String({ pattern: '^[0-9a-f]{64,130}$' });
/** A long poll's `wait`: seconds at most, 0 answers at once (the default). */
const WaitSecondsSchema = Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS }));

/**
 * `GET /cosigner/v1/work`: `held=true` (a Cloud Co-signer) also takes a pooled EdDSA SIGN job
 * held back for the signer's co-signer, once that co-signer leased its own: the job comes with
 * `held: true`, and its share may be computed only once `GET /cosigner/v1/jobs/{jobId}/release`
 * says it was released (docs/decisions/0006).
 */
export const WorkQuerySchema = Type.Object(
  {
    wait: WaitSecondsSchema,
    held: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/**
 * DESTROY: a Cloud Co-signer destroys its share of a share set whose pairing ended (the
 * session's signed destroy authorization names it); it runs no MPC and sends no message.
 * PRESIGN (ECDSA): the parties make one presignature ahead of time and keep it in their pools
 * until a SIGN session's authorization names it.
 */
export const JobTypeSchema = Type.Union([
  Type.Literal('KEYGEN'),
  Type.Literal('RESHARE'),
  Type.Literal('PRESIGN'),
  Type.Literal('SIGN'),
  Type.Literal('DESTROY'),
]);
export type JobType = Static<typeof JobTypeSchema>;

export const KeyAlgorithmSchema = Type.Union([
  Type.Literal('ECDSA_SECP256K1'),
  Type.Literal('EDDSA_ED25519'),
]);
export type KeyAlgorithm = Static<typeof KeyAlgorithmSchema>;

export const SessionResponseSchema = Type.Object(
  {
    sessionId: SessionIdSchema,
    status: Type.Union([
      Type.Literal('OPEN'),
      Type.Literal('DONE'),
      Type.Literal('FAILED'),
      Type.Literal('EXPIRED'),
    ]),
    /** `roster ‖ Ed25519 signature` (countersign/roster/v1), base64. Verify before use. */
    signedRoster: Base64Schema(64 * 1024),
    /**
     * SIGN sessions: `authorization ‖ Ed25519 signature` (countersign/signing-authorization/v2),
     * base64 — what the platform authorizes this session to sign; RESHARE sessions: the same
     * shape of countersign/reshare-authorization/v1 — who re-deals which share set to whom, and
     * the pairing that authorized it; DESTROY sessions: countersign/destroy-authorization/v1 —
     * the share set whose pairing ended. Verify before use.
     */
    signedAuthorization: Type.Optional(Base64Schema(80 * 1024)),
    expiresAt: Type.Number(),
  },
  { additionalProperties: false },
);
export type SessionResponse = Static<typeof SessionResponseSchema>;

/** A job leased to the calling co-signer. */
export const LeasedJobSchema = Type.Object(
  {
    jobId: Type.String({ format: 'uuid' }),
    type: JobTypeSchema,
    /** Present the lease id with the result: only the lease holder may report. */
    leaseId: Type.String({ format: 'uuid' }),
    leaseExpiresAt: Type.Number({ description: 'Milliseconds since the epoch' }),
    attempt: Type.Integer({ minimum: 1 }),
    sessionId: SessionIdSchema,
    workspaceId: Type.String({ format: 'uuid' }),
    /** The API user whose share set this job makes (a cloud co-signer holds one per API user). */
    apiKeyId: Type.String({ format: 'uuid' }),
    algorithm: KeyAlgorithmSchema,
    shareSetId: Type.String({ minLength: 1, maxLength: 128 }),
    threshold: Type.Integer({ minimum: 2 }),
    /**
     * The job's session as `GET /cosigner/v1/sessions/{sessionId}` answered at lease time, so the
     * party need not ask; verified the same way (the roster against the pinned platform key and
     * this job). Absent: ask.
     */
    session: Type.Optional(SessionResponseSchema),
    /**
     * Leased before it was released (a work poll with `held=true`): prepare, but compute and
     * report nothing until `GET /cosigner/v1/jobs/{jobId}/release` answers `released: true`.
     */
    held: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false },
);
export type LeasedJob = Static<typeof LeasedJobSchema>;

export const WorkResponseSchema = Type.Object(
  { jobs: Type.Array(LeasedJobSchema, { maxItems: 1 }) },
  { additionalProperties: false },
);
export type WorkResponse = Static<typeof WorkResponseSchema>;

export const SessionParamsSchema = Type.Object(
  { sessionId: SessionIdSchema },
  { additionalProperties: false },
);

const RoundSchema = Type.Integer({ minimum: 1, maximum: 255 });
const PartyIndexSchema = Type.Integer({ minimum: 1, maximum: 65535 });

export const PostMessagesRequestSchema = Type.Object(
  {
    messages: Type.Array(
      Type.Object(
        {
          round: RoundSchema,
          /** A party index, or null for a broadcast. */
          to: Type.Union([PartyIndexSchema, Type.Null()]),
          payload: Base64Schema(MAX_RELAY_MESSAGE_BYTES),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_MESSAGES_PER_POST },
    ),
  },
  { additionalProperties: false },
);
export type PostMessagesRequest = Static<typeof PostMessagesRequestSchema>;

export const PostMessagesResponseSchema = Type.Object(
  { accepted: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);

export const MessagesQuerySchema = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    wait: WaitSecondsSchema,
  },
  { additionalProperties: false },
);

export const RelayedMessageSchema = Type.Object(
  {
    /** Position in the session's message log; pass the last one seen as `after`. */
    seq: Type.Integer({ minimum: 1 }),
    from: PartyIndexSchema,
    to: Type.Union([PartyIndexSchema, Type.Null()]),
    round: RoundSchema,
    payload: Base64Schema(MAX_RELAY_MESSAGE_BYTES),
  },
  { additionalProperties: false },
);
export type RelayedMessage = Static<typeof RelayedMessageSchema>;

export const MessagesResponseSchema = Type.Object(
  {
    messages: Type.Array(RelayedMessageSchema, { maxItems: MAX_MESSAGES_PER_ANSWER }),
    /** The `after` of the next call. */
    next: Type.Integer({ minimum: 0 }),
    sessionStatus: SessionResponseSchema.properties.status,
  },
  { additionalProperties: false },
);
export type MessagesResponse = Static<typeof MessagesResponseSchema>;

export const JobParamsSchema = Type.Object(
  { jobId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

/**
 * KEYGEN and RESHARE output: the group public key (compressed point, hex) and the chain code;
 * a party that holds a share of the new share set adds its public part (`shareSet`, the mpc
 * package's `encodePublicShareSet`, hex), which the platform hands a later reshare's new member.
 */
export const KeygenResultSchema = Type.Object(
  {
    publicKey: HexKeySchema,
    chainCode: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    shareSet: Type.Optional(Type.String({ pattern: '^([0-9a-f][0-9a-f])+$', maxLength: 8192 })),
  },
  { additionalProperties: false },
);
export type KeygenResult = Static<typeof KeygenResultSchema>;

/**
 * SIGN output. Both FROST rounds or DKLs23: the signature, verified by the party against the
 * derived public key before it reports it (Ed25519: R ‖ S; ECDSA: r ‖ s, low-s), hex; the
 * derived public key (Ed25519: 32 bytes; secp256k1: 33-byte compressed), hex; ECDSA's recovery
 * id. EdDSA from a pooled FROST nonce set: the party's signature share `z_i` (32 bytes, hex),
 * which the platform aggregates (docs/decisions/0006).
 */
export const SignResultSchema = Type.Union([
  Type.Object(
    {
      signature: Type.String({ pattern: '^[0-9a-f]{128}$' }),
      publicKey: HexKeySchema,
      recoveryId: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { signatureShare: Type.String({ pattern: '^[0-9a-f]{64}$' }) },
    { additionalProperties: false },
  ),
]);
export type SignResult = Static<typeof SignResultSchema>;

/**
 * DESTROY output: the share set whose share this party no longer holds, and whether it held one
 * until now (false: never held here, or destroyed earlier — the job is idempotent).
 */
export const DestroyResultSchema = Type.Object(
  {
    destroyedShareSetId: Type.String({ minLength: 1, maxLength: 128 }),
    heldUntilNow: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type DestroyResult = Static<typeof DestroyResultSchema>;

/**
 * PRESIGN output: the id under which the party pooled its output, hex, equal for every party of
 * the session — ECDSA: the mpc package's `presignatureId`; EdDSA: SHA-256 of the FROST
 * commitment list, which comes with it (`commitments`, hex) for the platform to aggregate with.
 */
export const PresignResultSchema = Type.Object(
  {
    presignatureId: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    commitments: Type.Optional(Type.String({ pattern: '^([0-9a-f][0-9a-f])+$', maxLength: 4096 })),
  },
  { additionalProperties: false },
);
export type PresignResult = Static<typeof PresignResultSchema>;

export const JobResultRequestSchema = Type.Union([
  Type.Object(
    {
      leaseId: Type.String({ format: 'uuid' }),
      status: Type.Literal('DONE'),
      result: Type.Union([
        KeygenResultSchema,
        SignResultSchema,
        DestroyResultSchema,
        PresignResultSchema,
      ]),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      leaseId: Type.String({ format: 'uuid' }),
      status: Type.Literal('FAILED'),
      reason: Type.String({ minLength: 1, maxLength: 500 }),
      /**
       * An API co-signer's Callback Handler did not approve (REJECTED_BY_CALLBACK,
       * IGNORED_BY_CALLBACK, CALLBACK_*): the platform ends the transaction with this sub-status
       * and `reason` as its detail instead of retrying. SIGNATURE_MAY_EXIST (any co-signer): it
       * refuses because it already released a signature share for this message, so a fresh
       * session is futile and a signature may exist (raw-signing review M1). PAIRING_NOT_GUARDED
       * (RESHARE, the existing signer's API co-signer): no Callback Handler guards the old
       * signer's API key and its operator did not opt in to dealing without one (reshare review
       * H1); like a handler's REJECT or IGNORE, it ends the pairing's reshare attempts.
       * PRESIGNATURE_MISSING (SIGN, any co-signer): the pooled presignature the authorization
       * names is not in this party's store (a restored backup, a trimmed pool); an ordinary
       * failure — a fresh session follows — after which the platform drops that pool.
       */
      subStatus: Type.Optional(
        Type.String({
          pattern:
            '^(REJECTED_BY_CALLBACK|IGNORED_BY_CALLBACK|CALLBACK_[A-Z0-9_]{1,60}|SIGNATURE_MAY_EXIST|PAIRING_NOT_GUARDED|PRESIGNATURE_MISSING)$',
        }),
      ),
    },
    { additionalProperties: false },
  ),
]);
export type JobResultRequest = Static<typeof JobResultRequestSchema>;

/**
 * `POST /cosigner/v1/jobs/{jobId}/ready`, by the lease holder of a pooled EdDSA SIGN job whose
 * session holds the Cloud Co-signers back: its Callback Handler approved and it holds the named
 * nonce set, so nothing left on its side keeps it from signing — the held jobs may run now,
 * beside its own share instead of after it (docs/decisions/0006).
 */
export const JobReadyRequestSchema = Type.Object(
  { leaseId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);
export type JobReadyRequest = Static<typeof JobReadyRequestSchema>;

/** How many held jobs of the session the ready job released (0: none held, or released before). */
export const JobReadyResponseSchema = Type.Object(
  { jobId: Type.String(), released: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type JobReadyResponse = Static<typeof JobReadyResponseSchema>;

/**
 * `GET /cosigner/v1/jobs/{jobId}/release?leaseId=&wait=`, by the lease holder of a held job: a
 * long poll that answers `released: true` once the signer's co-signer said it will sign (or
 * reported its share), `false` after `wait` seconds. Each call keeps the lease alive.
 */
export const JobReleaseQuerySchema = Type.Object(
  {
    leaseId: Type.String({ format: 'uuid' }),
    wait: WaitSecondsSchema,
  },
  { additionalProperties: false },
);
export type JobReleaseQuery = Static<typeof JobReleaseQuerySchema>;

export const JobReleaseResponseSchema = Type.Object(
  { jobId: Type.String(), released: Type.Boolean() },
  { additionalProperties: false },
);
export type JobReleaseResponse = Static<typeof JobReleaseResponseSchema>;

/** `POST /cosigner/v1/leases/release`: how many leases of the caller's were handed back. */
export const ReleaseLeasesResponseSchema = Type.Object(
  { released: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type ReleaseLeasesResponse = Static<typeof ReleaseLeasesResponseSchema>;

/**
 * `POST /cosigner/v1/presignatures/discard`: the caller's pool is gone (its store was restored
 * from a backup); how many pooled entries made with it the platform discarded.
 */
export const DiscardPoolResponseSchema = Type.Object(
  { discarded: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type DiscardPoolResponse = Static<typeof DiscardPoolResponseSchema>;

/**
 * `POST /cosigner/v1/offline`: the caller stops cleanly; it is not available for new work until
 * it polls for work again.
 */
export const OfflineResponseSchema = Type.Object(
  { offline: Type.Literal(true) },
  { additionalProperties: false },
);
export type OfflineResponse = Static<typeof OfflineResponseSchema>;

export const JobResultResponseSchema = Type.Object(
  {
    jobId: Type.String(),
    status: Type.Union([Type.Literal('DONE'), Type.Literal('FAILED')]),
  },
  { additionalProperties: false },
);
