/**
 * @countersign/sdk — Countersign API client: Fireblocks-compatible request
 * signing, retries with backoff, cursor pagination, typed errors.
 */
export {
  CountersignClient,
  type CountersignClientOptions,
  type CountersignResponse,
  type HttpMethod,
  type QueryValue,
  type RequestOptions,
  type RetryEvent,
} from './client.js';
export { createPemRequestSigner, type RequestSigner } from './request-signer.js';
export {
  requestJwtClaims,
  sha256Hex,
  signRequestJwt,
  type RequestJwtClaims,
  type RequestJwtInput,
} from './request-jwt.js';
export {
  CountersignApiError,
  CountersignError,
  CountersignNetworkError,
  CountersignResponseError,
  CountersignSignerError,
  CountersignTimeoutError,
  CountersignUsageError,
  type SdkErrorCode,
} from './errors.js';
export { DEFAULT_RETRY_OPTIONS, type RetryOptions } from './retry-policy.js';
export {
  dataCursorPages,
  dataNextPages,
  iterateItems,
  iteratePages,
  pagingAfterPages,
  type Page,
  type PageFetcher,
  type PageShape,
} from './pagination.js';
export type {
  ApiUser,
  AuditLogEntry,
  AuditLogsPage,
  AuditLogTimePeriod,
  CreateApiUserInput,
  CreateApiUserResponse,
  CreateTransactionInput,
  CreateTransactionResponse,
  ListApiUsersResponse,
  ListAuditLogsInput,
  SignedMessage,
  TransactionResponse,
} from './api-types.js';
