/**
 * Why a CSR was refused. Each reason has its own wire code (ApiErrorCode
 * CSR_*), so a client can tell "not a CSR at all" from "a CSR with a weak key".
 */
import type { ApiErrorName } from '@countersign/protocol';
import { ValidationError } from '../errors.js';

export type CsrErrorCode =
  | 'ERR_CSR_NOT_PEM'
  | 'ERR_CSR_NOT_PKCS10'
  | 'ERR_CSR_BAD_SIGNATURE'
  | 'ERR_CSR_KEY_NOT_RSA'
  | 'ERR_CSR_KEY_TOO_SMALL'
  | 'ERR_CSR_KEY_UNSUPPORTED';

const WIRE_CODE: Record<CsrErrorCode, ApiErrorName> = {
  ERR_CSR_NOT_PEM: 'CSR_NOT_PEM',
  ERR_CSR_NOT_PKCS10: 'CSR_NOT_PKCS10',
  ERR_CSR_BAD_SIGNATURE: 'CSR_BAD_SIGNATURE',
  ERR_CSR_KEY_NOT_RSA: 'CSR_KEY_NOT_RSA',
  ERR_CSR_KEY_TOO_SMALL: 'CSR_KEY_TOO_SMALL',
  // RSA, big enough, but with parameters we do not take (exponent, oversize
  // modulus); the message says which.
  ERR_CSR_KEY_UNSUPPORTED: 'CSR_KEY_UNSUPPORTED',
};

/** HTTP 400. Messages describe the CSR's structure, never echo its bytes. */
export class CsrError extends ValidationError {
  declare readonly code: CsrErrorCode;

  constructor(code: CsrErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, WIRE_CODE[code], message, options);
    this.name = 'CsrError';
  }
}
