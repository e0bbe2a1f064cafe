/**
 * Transactions (`/v1/transactions`), shaped as the Fireblocks `TransactionsApi` models them
 * (`TransactionRequest`, `CreateTransactionResponse`, `TransactionResponse`, `SignedMessage`), so
 * the official SDK works against it unchanged. Only the RAW operation (raw message signing) is
 * implemented; see packages/platform/docs/transactions.md.
 */
import { Type, type Static } from 'typebox';

/** Fireblocks' raw-signing algorithm names. */
export const RawSigningAlgorithmSchema = Type.Union([
  Type.Literal('MPC_ECDSA_SECP256K1'),
  Type.Literal('MPC_EDDSA_ED25519'),
]);
export type RawSigningAlgorithm = Static<typeof RawSigningAlgorithmSchema>;

/** Most messages one RAW transaction signs (one MPC session each). */
export const MAX_RAW_MESSAGES = 16;
/** Longest message content, hex digits (64 KiB of bytes). */
export const MAX_RAW_CONTENT_HEX = 128 * 1024;

const IndexSchema = Type.Integer({ minimum: 0, maximum: 0xffffffff });

export const RawMessageSchema = Type.Object(
  {
    /** Hex bytes: ECDSA, the 32-byte digest; EdDSA, the message itself. */
    content: Type.String({ pattern: '^([0-9a-fA-F]{2})+$', maxLength: MAX_RAW_CONTENT_HEX }),
    /** Full path from the root key; non-hardened indices only. */
    derivationPath: Type.Optional(Type.Array(IndexSchema, { maxItems: 16 })),
    /** With the source vault account: `[44, coinType, vaultAccountId, bip44change, index]`. */
    bip44addressIndex: Type.Optional(IndexSchema),
    bip44change: Type.Optional(IndexSchema),
  },
  { additionalProperties: false },
);

export const CreateTransactionRequestSchema = Type.Object(
  {
    operation: Type.Literal('RAW'),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    externalTxId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    customerRefId: Type.Optional(Type.String({ maxLength: 255 })),
    assetId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    source: Type.Object(
      {
        type: Type.Literal('VAULT_ACCOUNT'),
        id: Type.String({ pattern: '^(0|[1-9][0-9]{0,9})$' }),
        name: Type.Optional(Type.String({ maxLength: 255 })),
      },
      { additionalProperties: false },
    ),
    extraParameters: Type.Object(
      {
        rawMessageData: Type.Object(
          {
            algorithm: Type.Optional(RawSigningAlgorithmSchema),
            messages: Type.Array(RawMessageSchema, { minItems: 1, maxItems: MAX_RAW_MESSAGES }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type CreateTransactionRequest = Static<typeof CreateTransactionRequestSchema>;

export const TransactionStatusSchema = Type.Union([
  Type.Literal('SUBMITTED'),
  Type.Literal('PENDING_SIGNATURE'),
  Type.Literal('COMPLETED'),
  Type.Literal('FAILED'),
  /** The signer's Callback Handler refused (subStatus REJECTED_BY_CALLBACK). */
  Type.Literal('REJECTED'),
]);
export type TransactionStatus = Static<typeof TransactionStatusSchema>;

export const CreateTransactionResponseSchema = Type.Object(
  { id: Type.String({ format: 'uuid' }), status: TransactionStatusSchema },
  { additionalProperties: false },
);
export type CreateTransactionResponse = Static<typeof CreateTransactionResponseSchema>;

export const SignedMessageSchema = Type.Object(
  {
    content: Type.String(),
    algorithm: RawSigningAlgorithmSchema,
    derivationPath: Type.Array(Type.Integer()),
    /** ECDSA: `{r, s, v, fullSig}` (fullSig = r ‖ s); EdDSA: `{fullSig}`. Hex. */
    signature: Type.Object(
      {
        fullSig: Type.String(),
        r: Type.Optional(Type.String()),
        s: Type.Optional(Type.String()),
        v: Type.Optional(Type.Integer()),
      },
      { additionalProperties: false },
    ),
    /** The derived public key (hex; secp256k1 compressed). */
    publicKey: Type.String(),
  },
  { additionalProperties: false },
);
export type SignedMessage = Static<typeof SignedMessageSchema>;

export const TransactionResponseSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    externalTxId: Type.Optional(Type.String()),
    customerRefId: Type.Optional(Type.String()),
    status: TransactionStatusSchema,
    subStatus: Type.String(),
    /** For a Callback Handler's refusal or failure: its reason (REJECT's rejectionReason). */
    subStatusDetail: Type.Optional(Type.String()),
    operation: Type.Literal('RAW'),
    note: Type.String(),
    assetId: Type.Optional(Type.String()),
    source: Type.Object(
      { type: Type.Literal('VAULT_ACCOUNT'), id: Type.String(), name: Type.String() },
      { additionalProperties: false },
    ),
    createdAt: Type.Number(),
    lastUpdated: Type.Number(),
    /** The API user that created the transaction. */
    createdBy: Type.String(),
    /** The API users whose co-signers signed. */
    signedBy: Type.Array(Type.String()),
    extraParameters: Type.Object(
      { rawMessageData: Type.Unknown() },
      { additionalProperties: true },
    ),
    signedMessages: Type.Array(SignedMessageSchema),
  },
  { additionalProperties: false },
);
export type TransactionResponse = Static<typeof TransactionResponseSchema>;

export const TransactionParamsSchema = Type.Object(
  { txId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

export const ExternalTxIdParamsSchema = Type.Object(
  { externalTxId: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: false },
);
