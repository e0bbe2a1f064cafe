/**
 * @countersign/callback-handler — write a Countersign Callback Handler (Fireblocks field names)
 * in a few lines: JWT or pinned-TLS mode, typed payloads, a Fastify plugin and a `node:http`
 * listener. The `countersign-callback` command is a reference handler built on it.
 */
export {
  createCallbackHandler,
  DEFAULT_DECISION_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  type CallbackAuditEvent,
  type CallbackHandler,
  type CallbackHandlerOptions,
  type CallbackHttpRequest,
  type CallbackHttpResponse,
  type CallbackRequestKind,
  type DecisionContext,
  type DecisionFunction,
  type JwtModeOptions,
  type PinnedTlsModeOptions,
} from './callback-handler.js';
export {
  approve,
  ignore,
  reject,
  retry,
  MAX_REJECTION_REASON_LENGTH,
  type CallbackDecision,
} from './decision.js';
// The protocol's authentication primitives, re-exported: this package's API predates their move
// to @countersign/protocol/callback-auth, where the co-signer uses the same code.
export {
  checkCallbackResponse,
  checkTimeClaims,
  DEFAULT_CLOCK_SKEW_SECONDS,
  loadRsaPrivateKey,
  loadRsaPublicKey,
  MIN_RSA_MODULUS_BITS,
  signCallbackRequest,
  signCallbackResponse,
  signRs256Jwt,
  verifyCallbackResponse,
  verifyRs256Jwt,
  createPinnedAgent,
  spkiMatchesPin,
  spkiSha256FromCertificatePem,
  type JwtClaims,
  type PrivateKeyInput,
  type PublicKeyInput,
  type TimeCheckOptions,
  type VerifyResponseOptions,
} from '@countersign/protocol/callback-auth';
export { createNodeRequestListener, type NodeAdapterOptions } from './node-adapter.js';
export { callbackHandlerPlugin, type CallbackHandlerPluginOptions } from './fastify-plugin.js';
export { CallbackHandlerError, type CallbackHandlerErrorCode } from './errors.js';
export type {
  CallbackAction,
  CallbackDestination,
  CallbackRawMessage,
  CallbackResponse,
  ConfigChangeSignRequest,
  TxSignRequest,
} from '@countersign/protocol';
export {
  createReferenceHandler,
  type ReferenceHandlerOptions,
} from './reference/reference-handler.js';
export { loadRulesFile, parseRules, type Rules, type RulesFile } from './reference/rules-file.js';
export { VelocityStore } from './reference/velocity-store.js';
export { AuditLog, verifyAuditLog, type AuditLogVerification } from './reference/audit-log.js';
