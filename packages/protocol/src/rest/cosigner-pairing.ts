/**
 * Pairing a co-signer and its tokens: the admin's pairing-token request
 * (`/v1/countersign/api_users/{apiKey}/pairing_token`) and the co-signer's
 * own calls (`/cosigner/v1/pair`, `/cosigner/v1/token`,
 * `/cosigner/v1/api_keys`). See packages/platform/docs/pairing.md.
 */
import { createHash } from 'node:crypto';
import { Type, type Static } from 'typebox';

/**
 * The fingerprint of a co-signer's Ed25519 identity key that the Owner compares with the
 * co-signer's operator before approving its pairing: the first 128 bits of SHA-256 over the raw
 * 32-byte key, as eight groups of four hex digits (short enough to read out, long enough that
 * nobody can make another key match it).
 */
export function identityFingerprint(identityKey: Uint8Array): string {
  const digest = createHash('sha256').update(identityKey).digest('hex').slice(0, 32);
  return digest.match(/.{4}/g)!.join(' ');
}

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
    proof: Type.Optional(
      Type.String({
        pattern: '^[0-9a-f]{128}$',
        description:
          "Ed25519 signature (hex) by identity.ed25519 of pairingProofMessage(...): the co-signer holds the key it registers. Required with a pairing token; a Cloud Co-signer's operator token needs none",
      }),
    ),
  },
  { additionalProperties: false },
);
export type PairRequest = Static<typeof PairRequestSchema>;

/**
 * What a pairing's proof of possession signs: a domain label, the pairing token's `jti` (so a
 * proof serves one exchange) and both identity keys as lower-case hex, one per line.
 */
export function pairingProofMessage(p: {
  jti: string;
  ed25519: string;
  x25519: string;
}): Uint8Array {
  return new TextEncoder().encode(
    [
      'countersign/pair/v1',
      p.jti.toLowerCase(),
      p.ed25519.toLowerCase(),
      p.x25519.toLowerCase(),
    ].join('\n'),
  );
}

/**
 * The platform's Ed25519 authorization key (raw 32 bytes, hex), which signs session rosters.
 * The co-signer pins it at its first pairing and refuses a pairing that reports another one.
 */
const PlatformKeySchema = Type.String({
  pattern: '^[0-9a-f]{64}$',
  description: "The platform's Ed25519 authorization key (hex); pin it at the first pairing",
});

/** 200: a Cloud Co-signer registered with an operator's cloud pairing token. */
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

/**
 * 202: every pairing through a pairing token waits for the workspace Owner's approval (a
 * COSIGNER_PAIR request that shows `identityFingerprint`). The co-signer waits on
 * `GET /cosigner/v1/pairings/{requestId}` (the `Location` header) with `pollToken`.
 */
export const PairPendingResponseSchema = Type.Object(
  {
    status: Type.Literal('WAITING_FOR_APPROVAL'),
    cosignerId: Type.String(),
    apiKeyId: Type.String(),
    requestId: Type.String({ description: 'The COSIGNER_PAIR approval request' }),
    pollToken: Type.String({
      description:
        'Bearer credential for GET /cosigner/v1/pairings/{requestId}; spent once the decision is reported',
    }),
    identityFingerprint: Type.String({
      description: 'What the Owner sees in the approval request; compare it before approving',
    }),
    platformKey: PlatformKeySchema,
  },
  { additionalProperties: false },
);
export type PairPendingResponse = Static<typeof PairPendingResponseSchema>;

export const PairingPollParamsSchema = Type.Object(
  { requestId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

/**
 * The state of a pairing the co-signer waits for. Once it is decided the answer is given once:
 * `PAIRED` carries the new co-signer's first refresh token (none when an already paired
 * co-signer added an API user: its own tokens cover it), and the poll token is then spent.
 */
export const PairingPollResponseSchema = Type.Object(
  {
    status: Type.Union([
      Type.Literal('WAITING_FOR_APPROVAL'),
      Type.Literal('PAIRED'),
      Type.Literal('REJECTED'),
      Type.Literal('UNPAIRED'),
    ]),
    cosignerId: Type.String(),
    apiKeyId: Type.String(),
    requestId: Type.String(),
    refreshToken: Type.Optional(Type.String()),
    platformKey: PlatformKeySchema,
  },
  { additionalProperties: false },
);
export type PairingPollResponse = Static<typeof PairingPollResponseSchema>;

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
          /**
           * A sandbox workspace (test networks only): the communal test co-signer serves these
           * and refuses every other (packages/platform/docs/sandbox.md).
           */
          workspaceSandbox: Type.Boolean(),
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

/** `POST /cosigner/v1/api_keys/{apiKeyId}/unpair`: the co-signer stopped serving the API key. */
export const CosignerUnpairParamsSchema = Type.Object(
  { apiKeyId: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
);

export const CosignerUnpairResponseSchema = Type.Object(
  {
    apiKeyId: Type.String(),
    status: Type.Literal('UNPAIRED'),
  },
  { additionalProperties: false },
);
export type CosignerUnpairResponse = Static<typeof CosignerUnpairResponseSchema>;

/** `PUT /cosigner/v1/name`: the co-signer renamed itself on its host. */
export const CosignerRenameRequestSchema = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
export type CosignerRenameRequest = Static<typeof CosignerRenameRequestSchema>;

export const CosignerRenameResponseSchema = Type.Object(
  { cosignerId: Type.String(), name: Type.String() },
  { additionalProperties: false },
);
export type CosignerRenameResponse = Static<typeof CosignerRenameResponseSchema>;

/**
 * Recovery with the identity key (packages/platform/docs/pairing.md, "Recovery"): a co-signer
 * that lost its refresh token signs this request with its Ed25519 identity key and gets a new
 * token family. Accepted once per nonce, within its expiry.
 */
export const RecoverRequestSchema = Type.Object(
  {
    cosignerId: Type.String({ format: 'uuid' }),
    nonce: Type.String({ pattern: '^[A-Za-z0-9_-]{22,86}$', description: 'Random, base64url' }),
    issuedAt: Type.Integer({ description: 'Milliseconds since the epoch' }),
    expiresAt: Type.Integer({
      description: 'Milliseconds since the epoch; at most 5 minutes after issuedAt',
    }),
    signature: Type.String({
      pattern: '^[0-9a-f]{128}$',
      description: 'Ed25519 signature (hex) of recoveryMessage(...) by the identity key',
    }),
  },
  { additionalProperties: false },
);
export type RecoverRequest = Static<typeof RecoverRequestSchema>;

export const RecoverResponseSchema = Type.Object(
  {
    refreshToken: Type.String({ description: 'The first of a new token family' }),
    refreshTokenExpiresAt: Type.Number(),
  },
  { additionalProperties: false },
);
export type RecoverResponse = Static<typeof RecoverResponseSchema>;

/** Longest accepted lifetime of a recovery request. */
export const RECOVERY_MAX_LIFETIME_MS = 5 * 60 * 1000;

/**
 * The bytes a recovery request's signature covers: a domain label, then the co-signer id, the
 * nonce, both times and the platform's authorization key (hex) — each of a fixed alphabet that
 * has no newline, so the lines cannot be shifted into one another. The platform key binds the
 * request to one platform.
 */
export function recoveryMessage(r: {
  cosignerId: string;
  nonce: string;
  issuedAt: number;
  expiresAt: number;
  platformKey: string;
}): Uint8Array {
  return new TextEncoder().encode(
    [
      'countersign/cosigner-recover/v1',
      r.cosignerId.toLowerCase(),
      r.nonce,
      String(r.issuedAt),
      String(r.expiresAt),
      r.platformKey.toLowerCase(),
    ].join('\n'),
  );
}
