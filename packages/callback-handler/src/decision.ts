/**
 * What a decision function returns, and the check that turns anything else into a failure: a
 * value that is not exactly a decision is never read as APPROVE.
 * @module
 */
import type { CallbackAction } from '@countersign/protocol';

import { CallbackHandlerError } from './errors.js';

export interface CallbackDecision {
  action: CallbackAction;
  /** Sent with REJECT (and kept in the audit log); at most 1024 characters are sent. */
  rejectionReason?: string;
}

export const approve = (): CallbackDecision => ({ action: 'APPROVE' });
export const reject = (rejectionReason: string): CallbackDecision => ({
  action: 'REJECT',
  rejectionReason,
});
/** Ask the co-signer to ask again later (every 3 minutes, 20 times by default). */
export const retry = (): CallbackDecision => ({ action: 'RETRY' });
/** Approvals only: leave the decision to a human approver. Never signs. */
export const ignore = (): CallbackDecision => ({ action: 'IGNORE' });

const ACTIONS: readonly string[] = ['APPROVE', 'REJECT', 'RETRY', 'IGNORE'];
export const MAX_REJECTION_REASON_LENGTH = 1024;

/** Snapshot of a returned decision, or ERR_CALLBACK_DECISION_FAILED. */
export function checkDecision(value: unknown): CallbackDecision {
  const failed = (why: string) =>
    new CallbackHandlerError('ERR_CALLBACK_DECISION_FAILED', `decision function ${why}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw failed('did not return a decision object');
  }
  // Read each property once: a getter or proxy cannot show one value here and another later.
  const action: unknown = (value as Record<string, unknown>)['action'];
  const reason: unknown = (value as Record<string, unknown>)['rejectionReason'];
  if (typeof action !== 'string' || !ACTIONS.includes(action)) {
    throw failed('returned an unknown action');
  }
  if (reason !== undefined && typeof reason !== 'string') {
    throw failed('returned a rejectionReason that is not a string');
  }
  const decision: CallbackDecision = { action: action as CallbackAction };
  if (action !== 'APPROVE' && reason !== undefined && reason !== '') {
    decision.rejectionReason = reason.slice(0, MAX_REJECTION_REASON_LENGTH);
  }
  return decision;
}
