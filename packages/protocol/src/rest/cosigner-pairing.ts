/**
 * Pairing a co-signer and its tokens: the admin's pairing-token request
 * (`/v1/countersign/api_users/{apiKey}/pairing_token`) and the co-signer's
 * own calls (`/cosigner/v1/pair`, `/cosigner/v1/token`,
 * `/cosigner/v1/api_keys`). See packages/platform/docs/pairing.md.
 */
import { Type, type Static } from 'typebox';

export const ApiKeyParamsSchema = Type.Object(
  { apiKey: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

export const PairingTokenResponseSchema = Type.Object(
  {
    pairingToken: Type.String({ description: 'Single-use JWT; give it to the co-signer' }),
    expiresAt: Type.Number({ description: 'Milliseconds since the epoch' }),
  },
  { additionalProperties: false },
);
export type PairingTokenResponse = Static<typeof PairingTokenResponseSchema>;

/** A raw 32-byte public key as 64 hex digits or 43/44 base64 (or base64url) characters. */
const RawPublicKeySchema = Type.String({ minLength: 43, maxLength: 64 });

export const CosignerIdentitySchema = Type.Object(
  {
    ed25519: RawPublicKeySchema,
    x25519: RawPublicKeySchema,
  },
  { additionalProperties: false },
);

export const PairRequestSchema = Type.Object(
  {
    pairingToken: Type.String({ minLength: 1, maxLength: 4096 }),
    identity: CosignerIdentitySchema,
    cosignerName: Type.String({ minLength: 1, maxLength: 100 }),
    version: Type.String({ minLength: 1, maxLength: 64 }),
    cosignerId: Type.Optional(
      Type.String({
        format: 'uuid',
        description:
          'Set by an already paired co-signer adding an API user; the call must then carry its access token',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PairRequest = Static<typeof PairRequestSchema>;

/**
 * The platform's Ed25519 authorization key (raw 32 bytes, hex), which signs session rosters.
 * The co-signer pins it at its first pairing and refuses a pairing that reports another one.
 */
const PlatformKeySchema = Type.String({
  pattern: '^[0-9a-f]{64}$',
  description: "The platform's Ed25519 authorization key (hex); pin it at the first pairing",
});

/** 200: a new co-signer, paired at once. */
export const PairResponseSchema = Type.Object(
  {
    status: Type.Literal('PAIRED'),
    cosignerId: Type.String(),
    apiKeyId: Type.String(),
    refreshToken: Type.String(),
    platformKey: PlatformKeySchema,
  },
  { additionalProperties: false },
);
export type PairResponse = Static<typeof PairResponseSchema>;

/** 202: an existing co-signer asked for another API user; the Owner must approve. */
export const PairPendingResponseSchema = Type.Object(
  {
    status: Type.Literal('WAITING_FOR_APPROVAL'),
    cosignerId: Type.String(),
    apiKeyId: Type.String(),
    requestId: Type.String({ description: 'The approval request; poll GET /cosigner/v1/api_keys' }),
    platformKey: PlatformKeySchema,
  },
  { additionalProperties: false },
);
export type PairPendingResponse = Static<typeof PairPendingResponseSchema>;

export const TokenRequestSchema = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false },
);

export const TokenResponseSchema = Type.Object(
  {
    tokenType: Type.Literal('Bearer'),
    accessToken: Type.String(),
    expiresIn: Type.Integer({ description: 'Seconds' }),
    expiresAt: Type.Number({ description: 'Milliseconds since the epoch' }),
    refreshToken: Type.String({ description: 'Replaces the one sent; the old one is now spent' }),
    refreshTokenExpiresAt: Type.Number(),
  },
  { additionalProperties: false },
);
export type TokenResponse = Static<typeof TokenResponseSchema>;

export const CosignerPairingStatusSchema = Type.Union([
  Type.Literal('WAITING_FOR_APPROVAL'),
  Type.Literal('PAIRED'),
  Type.Literal('REJECTED'),
  Type.Literal('UNPAIRED'),
]);
export type CosignerPairingStatus = Static<typeof CosignerPairingStatusSchema>;

export const CosignerApiKeysResponseSchema = Type.Object(
  {
    cosignerId: Type.String(),
    apiKeys: Type.Array(
      Type.Object(
        {
          apiKeyId: Type.String(),
          workspaceId: Type.String(),
          status: CosignerPairingStatusSchema,
          requestId: Type.Union([Type.String(), Type.Null()]),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CosignerApiKeysResponse = Static<typeof CosignerApiKeysResponseSchema>;
