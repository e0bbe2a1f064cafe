/** Errors of the transactions API (docs/transactions.md): generic codes, specific messages. */
import { PlatformError, ValidationError } from '../errors.js';

export function invalidTransaction(why: string): ValidationError {
  return new ValidationError('ERR_TRANSACTION_INVALID', 'INVALID_REQUEST', why);
}

export function idempotencyKeyReused(): PlatformError {
  return new PlatformError(
    'ERR_TRANSACTION_IDEMPOTENCY_KEY_REUSED',
    'CONFLICT',
    409,
    'This Idempotency-Key was used with another request body',
  );
}

export function externalTxIdTaken(): PlatformError {
  return new PlatformError(
    'ERR_TRANSACTION_EXTERNAL_TX_ID_TAKEN',
    'CONFLICT',
    409,
    'A transaction with this externalTxId already exists',
  );
}
