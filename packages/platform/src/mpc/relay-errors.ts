/** Errors of the MPC relay (codes 1601–1604, docs/mpc-relay.md). Messages carry no payload bytes. */
import { PlatformError } from '../errors.js';

export function notSessionParty(): PlatformError {
  return new PlatformError(
    'ERR_RELAY_NOT_SESSION_PARTY',
    'NOT_SESSION_PARTY',
    403,
    'This co-signer is not a party of the session',
  );
}

export function sessionClosed(status: string): PlatformError {
  return new PlatformError(
    'ERR_RELAY_SESSION_CLOSED',
    'SESSION_CLOSED',
    409,
    `The session is ${status.toLowerCase()}`,
  );
}

export function leaseNotHeld(): PlatformError {
  return new PlatformError(
    'ERR_RELAY_LEASE_NOT_HELD',
    'LEASE_NOT_HELD',
    409,
    'This job is not leased to the caller under this lease id (the lease moved on, or the job is finished)',
  );
}

export function messageRefused(why: string): PlatformError {
  return new PlatformError('ERR_RELAY_MESSAGE_REFUSED', 'MESSAGE_REFUSED', 400, why);
}

export function resultRefused(why: string): PlatformError {
  return new PlatformError('ERR_RELAY_RESULT_REFUSED', 'INVALID_REQUEST', 400, why);
}
