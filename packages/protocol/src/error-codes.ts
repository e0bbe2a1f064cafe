/**
 * Error codes on the wire: every API error body is `{ message, code }`.
 *
 * Negative codes are the Fireblocks authentication codes, so clients written
 * against the Fireblocks API (and its official SDKs) recognise them. Positive
 * codes are Countersign's own, grouped by area; they never change meaning once
 * published.
 */
export const ApiErrorCode = {
  // Authentication (Fireblocks-compatible, HTTP 401 unless noted).
  INVALID_SIGNATURE: -1,
  MISSING_API_KEY: -2,
  MISSING_JWT: -3,
  WRONG_URI: -4,
  TOKEN_NOT_ACCEPTED: -7,
  INSUFFICIENT_PERMISSIONS: -8, // HTTP 403
  TOKEN_EXPIRED: -10,
  FUTURE_IAT: -12,

  // Request shape (HTTP 400/413/415).
  MALFORMED_JSON: 1001,
  UNSUPPORTED_CONTENT_TYPE: 1002,
  INVALID_REQUEST: 1003,
  BODY_TOO_LARGE: 1004,
  INVALID_PAGE_CURSOR: 1005, // a pageCursor this server did not issue for this listing

  // API users and CSRs (HTTP 400).
  CSR_NOT_PEM: 1101,
  CSR_NOT_PKCS10: 1102,
  CSR_BAD_SIGNATURE: 1103,
  CSR_KEY_NOT_RSA: 1104,
  CSR_KEY_TOO_SMALL: 1105,
  IP_ALLOWLIST_INVALID: 1106,
  API_USER_NAME_TAKEN: 1107, // HTTP 409
  CSR_KEY_UNSUPPORTED: 1108, // RSA, but an exponent or size we do not take

  // Approval requests.
  APPROVAL_REQUEST_NOT_PENDING: 1201, // HTTP 409
  APPROVAL_ALREADY_VOTED: 1202, // HTTP 409

  // Co-signer pairing and co-signer tokens (`/cosigner/v1/...`, HTTP 401 unless noted).
  PAIRING_TOKEN_INVALID: 1301, // malformed, bad signature, wrong alg/audience/issuer
  PAIRING_TOKEN_EXPIRED: 1302,
  PAIRING_TOKEN_USED: 1303, // single use: already exchanged
  REFRESH_TOKEN_INVALID: 1304, // unknown to the platform
  REFRESH_TOKEN_EXPIRED: 1305,
  REFRESH_TOKEN_REUSED: 1306, // already rotated: the whole token family is now revoked
  TOKEN_FAMILY_REVOKED: 1307, // a token of a family revoked earlier (reuse, unpair)
  ACCESS_TOKEN_INVALID: 1308, // missing, malformed or unknown bearer token
  ACCESS_TOKEN_EXPIRED: 1309,
  COSIGNER_IDENTITY_INVALID: 1310, // HTTP 400: identity keys of the wrong length or encoding
  API_USER_CANNOT_SIGN: 1311, // HTTP 409: only a READY SIGNER or ADMIN API user can be paired
  API_KEY_ALREADY_PAIRED: 1312, // HTTP 409
  API_KEY_NOT_PAIRED: 1313, // HTTP 409
  PAIRING_POLL_TOKEN_INVALID: 1314, // missing, unknown, expired or already spent poll token
  COSIGNER_RECOVERY_REFUSED: 1315, // identity-key recovery: bad signature, stale, replayed, or not approved
  LAST_SHARE_SETS: 1316, // HTTP 409: unpairing the only signer whose share sets hold a root key

  // MPC relay: jobs and sessions (`/cosigner/v1/work|jobs|sessions`).
  NOT_SESSION_PARTY: 1601, // HTTP 403: the caller is not in the session's roster
  SESSION_CLOSED: 1602, // HTTP 409: the session expired, failed or finished
  LEASE_NOT_HELD: 1603, // HTTP 409: the job is not leased to the caller under this lease id
  MESSAGE_REFUSED: 1604, // HTTP 400: bad recipient, round, encoding, size, or the session's message cap

  // Vault accounts, asset wallets and addresses (`/v1/vault/...`).
  ASSET_NOT_SUPPORTED: 1701, // HTTP 400: the asset id is not in this platform's asset configuration
  VAULT_ASSET_EXISTS: 1702, // HTTP 409: the vault account already holds a wallet of this asset
  ROOT_KEY_MISSING: 1703, // HTTP 409: the workspace has no root key of the asset's algorithm yet

  // Generic.
  NOT_FOUND: 1404, // HTTP 404
  CONFLICT: 1409, // HTTP 409, e.g. a concurrent write of the same unique value
  RATE_LIMITED: 1429, // HTTP 429
  INTERNAL: 1500, // HTTP 500, message never echoes internals
  NOT_IMPLEMENTED: 1501, // HTTP 501: a documented operation this version does not support yet
  UNAVAILABLE: 1503, // HTTP 503
} as const;

export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];
export type ApiErrorName = keyof typeof ApiErrorCode;

/** The body of every error response. */
export interface ApiErrorBody {
  message: string;
  code: number;
}
