/**
 * `@countersign/protocol/callback-auth` — the authentication of the Callback Handler protocol
 * (ARCHITECTURE.md §7), one copy for both ends: the co-signer (`@countersign/cosigner`) signs
 * requests and verifies answers, a handler (`@countersign/callback-handler`) does the reverse.
 *
 * Why here and not in `@countersign/sdk`: the SDK is the client of the platform's REST API and
 * neither end of a callback depends on it, while both already depend on this package, which
 * defines the callback wire format these functions implement (callback.ts). Why a subpath: these
 * need Node's crypto, https and tls; the schemas at the package root stay free of them.
 * @module
 */
export { CallbackError, type CallbackAuthErrorCode } from './callback-auth-error.js';
export {
  checkCallbackResponse,
  checkClockSkewSeconds,
  checkTimeClaims,
  DEFAULT_CLOCK_SKEW_SECONDS,
  MAX_CLOCK_SKEW_SECONDS,
  signCallbackRequest,
  signCallbackResponse,
  verifyCallbackResponse,
  type TimeCheckOptions,
  type VerifyResponseOptions,
} from './callback-jwt.js';
export {
  hasDuplicateMemberNames,
  MAX_JWT_LENGTH,
  signRs256Jwt,
  verifyRs256Jwt,
  type JwtClaims,
} from './compact-jws.js';
export {
  loadRsaPrivateKey,
  loadRsaPublicKey,
  MAX_RSA_MODULUS_BITS,
  MIN_RSA_MODULUS_BITS,
  rsaSignatureLength,
  type PrivateKeyInput,
  type PublicKeyInput,
} from './rsa-keys.js';
export {
  createPinnedAgent,
  spkiMatchesPin,
  spkiSha256FromCertificatePem,
  type PinnedAgentOptions,
} from './tls-pin.js';
