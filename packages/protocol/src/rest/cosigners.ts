/**
 * Co-signer management (`/v1/cosigners...`), shaped exactly as the Fireblocks
 * `CosignersBetaApi` models them (`Cosigner`, `ApiKey`,
 * `CosignersPaginatedResponse`, `ApiKeysPaginatedResponse`, `Status`,
 * `PairApiKeyRequest`/`Response`, `RenameCosigner`), so the official SDK works
 * against it unchanged.
 */
import { Type, type Static } from 'typebox';

export const CosignerIdParamsSchema = Type.Object(
  { cosignerId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

export const CosignerApiKeyParamsSchema = Type.Object(
  { cosignerId: Type.String({ format: 'uuid' }), apiKeyId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

export const CosignerRequestParamsSchema = Type.Object(
  {
    cosignerId: Type.String({ format: 'uuid' }),
    apiKeyId: Type.String({ format: 'uuid' }),
    requestId: Type.String({ format: 'uuid' }),
  },
  { additionalProperties: false },
);

export const PageOrderSchema = Type.Union([Type.Literal('ASC'), Type.Literal('DESC')]);
export type PageOrder = Static<typeof PageOrderSchema>;

/** Cursor pages: the cursor is opaque and only valid for the listing (and order) that issued it. */
export const PageQuerySchema = Type.Object(
  {
    pageCursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    order: Type.Optional(PageOrderSchema),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuerySchema>;

export const CosignerTypeSchema = Type.Union([
  Type.Literal('SANDBOX'),
  Type.Literal('SGX'),
  Type.Literal('GCP-CONFSPACE'),
  Type.Literal('AWS-NITRO'),
  Type.Literal('PLAIN'),
]);

export const VersionSummarySchema = Type.Object(
  {
    hash: Type.String({ description: 'SHA-256 (hex) of the version the co-signer reported' }),
    name: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const CosignerSchema = Type.Object(
  {
    archived: Type.Boolean(),
    id: Type.String(),
    name: Type.Optional(Type.String()),
    type: Type.Optional(CosignerTypeSchema),
    version: Type.Optional(VersionSummarySchema),
  },
  { additionalProperties: false },
);
export type Cosigner = Static<typeof CosignerSchema>;

export const CosignersPaginatedResponseSchema = Type.Object(
  {
    data: Type.Array(CosignerSchema),
    next: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type CosignersPaginatedResponse = Static<typeof CosignersPaginatedResponseSchema>;

export const RenameCosignerSchema = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
export type RenameCosigner = Static<typeof RenameCosignerSchema>;

export const CallbackHandlerSchema = Type.Object(
  {
    url: Type.String(),
    publicKey: Type.Optional(Type.String()),
    certPublicKeyHash: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const CallbackHandlerRequestSchema = Type.Object(
  {
    url: Type.String({ maxLength: 2048 }),
    publicKey: Type.Optional(Type.String({ maxLength: 16384 })),
    cert: Type.Optional(Type.String({ maxLength: 65536 })),
  },
  { additionalProperties: false },
);

export const ApiKeySchema = Type.Object(
  {
    id: Type.String({ description: 'The API key (API user id)' }),
    lastSeen: Type.Optional(
      Type.String({ format: 'date-time', description: 'Last authenticated co-signer call' }),
    ),
    callbackHandler: Type.Optional(CallbackHandlerSchema),
  },
  { additionalProperties: false },
);
export type ApiKey = Static<typeof ApiKeySchema>;

export const ApiKeysPaginatedResponseSchema = Type.Object(
  {
    data: Type.Array(ApiKeySchema),
    next: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);
export type ApiKeysPaginatedResponse = Static<typeof ApiKeysPaginatedResponseSchema>;

export const PairApiKeyRequestSchema = Type.Object(
  { callbackHandler: Type.Optional(CallbackHandlerRequestSchema) },
  { additionalProperties: false },
);
export type PairApiKeyRequest = Static<typeof PairApiKeyRequestSchema>;

export const PairApiKeyResponseSchema = Type.Object(
  { id: Type.String(), callbackHandler: Type.Optional(CallbackHandlerRequestSchema) },
  { additionalProperties: false },
);
export type PairApiKeyResponse = Static<typeof PairApiKeyResponseSchema>;

export const UpdateCallbackHandlerRequestSchema = Type.Object(
  { callbackHandler: Type.Optional(CallbackHandlerRequestSchema) },
  { additionalProperties: false },
);

/** A pair/unpair command's progress, as Fireblocks reports it. */
export const CosignerCommandStatusSchema = Type.Object(
  {
    status: Type.Union([
      Type.Literal('WAITING_FOR_APPROVAL'),
      Type.Literal('APPROVED'),
      Type.Literal('CANCELLED'),
      Type.Literal('REJECTED'),
      Type.Literal('COMPLETED'),
    ]),
    type: Type.Union([
      Type.Literal('PAIR_API_KEY'),
      Type.Literal('UPDATE_CALLBACK_HANDLER'),
      Type.Literal('UNPAIR_API_KEY'),
    ]),
  },
  { additionalProperties: false },
);
export type CosignerCommandStatus = Static<typeof CosignerCommandStatusSchema>;
