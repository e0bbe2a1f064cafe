/**
 * The Callback Handler protocol (ARCHITECTURE.md §7): what an API Co-signer POSTs to a customer's
 * Callback Handler before it signs or approves, and what the handler answers. Field names follow
 * the Fireblocks co-signer callback (`/v2/tx_sign_request`, `/v2/config_change_sign_request`,
 * `CallbackResponse`), so handler logic ports between the two; the schemas themselves are ours.
 *
 * Transport, in both modes the co-signer is the HTTP client:
 * - JWT mode: the request body is a compact JWS, header exactly `{"alg":"RS256","typ":"JWT"}`,
 *   signed with the co-signer's callback key; its claims are the payload below plus `iat` and
 *   `exp` (seconds, `exp - iat` ≤ {@link CALLBACK_JWT_MAX_LIFETIME_SECONDS}). The answer is a JWS
 *   of the same shape signed with the handler's key, claims = {@link CallbackResponse} plus `iat`
 *   and `exp`. The co-signer checks the signature *and* that `requestId` is the one it sent.
 * - Pinned-TLS mode: the same payload and response as plain JSON, over TLS whose server
 *   certificate's SPKI SHA-256 is pinned by the co-signer.
 *
 * Schemas reject unknown fields: the co-signer sends exactly these, and a handler that cannot
 * read a field cannot have judged it.
 * @module
 */
import { Type, type Static } from 'typebox';

/** Paths below the handler's configured URL. */
export const CALLBACK_TX_SIGN_REQUEST_PATH = '/v2/tx_sign_request';
export const CALLBACK_CONFIG_CHANGE_SIGN_REQUEST_PATH = '/v2/config_change_sign_request';

/** Content types on the wire: JWT mode bodies (RFC 7519 §10.3.1) and pinned-TLS bodies. */
export const CALLBACK_JWT_CONTENT_TYPE = 'application/jwt';
export const CALLBACK_JSON_CONTENT_TYPE = 'application/json';

/** Longest accepted `exp - iat` of a callback JWT, either direction. */
export const CALLBACK_JWT_MAX_LIFETIME_SECONDS = 60;

/** How long the co-signer waits for an answer before it fails the request. */
export const CALLBACK_RESPONSE_TIMEOUT_SECONDS = 30;

/** A non-negative decimal amount as a string (`"0.010000000000000000"`), never a float. */
export const DecimalAmountSchema = Type.String({
  pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$',
  maxLength: 80,
  description: 'non-negative decimal string, e.g. "0.01"',
});

const Id = (maxLength = 256) => Type.String({ maxLength });
const Token = Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,63}$', description: 'UPPER_SNAKE_CASE' });

/** One destination of a transaction (several for a multi-output UTXO transfer). */
export const CallbackDestinationSchema = Type.Object(
  {
    amountNativeStr: DecimalAmountSchema,
    amountUSD: Type.Optional(Type.Number({ minimum: 0 })),
    dstAddress: Type.Optional(Id(1024)),
    /** The address as displayed; sent with signing requests only. */
    displayDstAddress: Type.Optional(Id(1024)),
    dstAddressType: Type.Optional(Token),
    dstType: Token,
    dstId: Id(),
    dstWalletId: Type.Optional(Id()),
    dstName: Type.Optional(Id(1024)),
    dstSubType: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type CallbackDestination = Static<typeof CallbackDestinationSchema>;

/** One message the MPC parties will sign, as the platform authorized it. */
export const CallbackRawMessageSchema = Type.Object(
  {
    /** Hex of the bytes to be signed (a digest for ECDSA, the message for EdDSA). */
    content: Type.String({ pattern: '^([0-9a-f]{2})+$', maxLength: 65536 }),
    /** BIP32 path, non-hardened (`m/44/{coinType}/{vaultAccountId}/0/{index}`). */
    derivationPath: Type.Array(Type.Integer({ minimum: 0, maximum: 0x7fffffff }), {
      maxItems: 10,
    }),
    algorithm: Type.Union([Type.Literal('MPC_ECDSA_SECP256K1'), Type.Literal('MPC_EDDSA_ED25519')]),
  },
  { additionalProperties: false },
);
export type CallbackRawMessage = Static<typeof CallbackRawMessageSchema>;

/** `POST /v2/tx_sign_request`: the co-signer is about to take part in signing this transaction. */
export const TxSignRequestSchema = Type.Object(
  {
    txId: Id(),
    /** Unique per request; the answer must echo it. */
    requestId: Id(),
    /** TRANSFER, RAW, CONTRACT_CALL, TYPED_MESSAGE, … */
    operation: Token,
    asset: Id(),
    /** Empty when the co-signer does not know it (a RAW request's authorization names no source). */
    sourceType: Type.Union([Token, Type.Literal('')]),
    sourceId: Id(),
    /** Empty when the co-signer does not know it (RAW). */
    destType: Type.Union([Token, Type.Literal('')]),
    destId: Id(),
    destAddress: Id(1024),
    amountStr: DecimalAmountSchema,
    requestedAmountStr: DecimalAmountSchema,
    fee: Type.Optional(DecimalAmountSchema),
    note: Type.String({ maxLength: 4096 }),
    externalTxId: Type.Optional(Id()),
    /** The API key (API user id) whose co-signer is asking. */
    signerId: Id(),
    destinations: Type.Array(CallbackDestinationSchema, { maxItems: 1000 }),
    extraParameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    rawMessages: Type.Array(CallbackRawMessageSchema, { maxItems: 127 }),
  },
  { additionalProperties: false },
);
export type TxSignRequest = Static<typeof TxSignRequestSchema>;

/** `POST /v2/config_change_sign_request`: the co-signer is asked to approve a workspace change. */
export const ConfigChangeSignRequestSchema = Type.Object(
  {
    requestId: Id(),
    signerId: Id(),
    /** UNMANAGED_WALLET, ADD_USER, PAIR_API_KEY, … */
    type: Token,
    /** Details that depend on `type` (e.g. the address being whitelisted). */
    extraInfo: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false },
);
export type ConfigChangeSignRequest = Static<typeof ConfigChangeSignRequestSchema>;

/**
 * APPROVE signs; REJECT ends the request with `rejectionReason`; RETRY asks again later;
 * IGNORE (approvals only) leaves the decision to someone else. On a signing request, anything
 * but APPROVE means no signature.
 */
export const CallbackActionSchema = Type.Union([
  Type.Literal('APPROVE'),
  Type.Literal('REJECT'),
  Type.Literal('RETRY'),
  Type.Literal('IGNORE'),
]);
export type CallbackAction = Static<typeof CallbackActionSchema>;

export const CallbackResponseSchema = Type.Object(
  {
    action: CallbackActionSchema,
    requestId: Id(),
    rejectionReason: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type CallbackResponse = Static<typeof CallbackResponseSchema>;

/** The time claims a callback JWT carries beside its payload, in both directions. */
export const CallbackJwtTimeClaimsSchema = Type.Object({
  iat: Type.Integer({ minimum: 0 }),
  exp: Type.Integer({ minimum: 0 }),
});
export type CallbackJwtTimeClaims = Static<typeof CallbackJwtTimeClaimsSchema>;
