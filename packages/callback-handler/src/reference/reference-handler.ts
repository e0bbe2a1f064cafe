/**
 * The reference Callback Handler: the library's handler with the rules engine as its decision
 * function, the velocity state on disk, and every request in the audit log. Decisions run one
 * at a time, so two concurrent requests cannot both fit under the same velocity cap.
 * @module
 */
import type { CallbackHandler, CallbackHandlerOptions } from '../callback-handler.js';
import { createCallbackHandler } from '../callback-handler.js';
import type { AuditLog } from './audit-log.js';
import { decideConfigChange, decideTxSignRequest, type RuleDecision } from './rules-engine.js';
import type { Rules } from './rules-file.js';
import type { VelocityStore } from './velocity-store.js';

export interface ReferenceHandlerOptions {
  mode: CallbackHandlerOptions['mode'];
  rules: Rules;
  velocity: VelocityStore;
  audit: AuditLog;
  /** Milliseconds since the epoch; for tests (business hours with a fixed clock). */
  now?: () => number;
}

export function createReferenceHandler(options: ReferenceHandlerOptions): CallbackHandler {
  const now = options.now ?? Date.now;
  const { rules, velocity, audit } = options;
  /** The rule that decided each request, until its audit entry is written. */
  const decidedBy = new Map<string, string>();
  let queue: Promise<unknown> = Promise.resolve();
  const serialized = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => {});
    return run;
  };

  const record = async (requestId: string, outcome: RuleDecision) => {
    decidedBy.set(requestId, outcome.rule);
    if (outcome.approvedAmount !== undefined) {
      // Persisted before the approval leaves: a crash after this counts it, never the reverse.
      await velocity.record(
        { ...outcome.approvedAmount, requestId, at: now() },
        rules.longestWindowMs,
      );
    }
    return outcome.decision;
  };

  return createCallbackHandler({
    mode: options.mode,
    now,
    onTxSignRequest: (request) =>
      serialized(() =>
        record(request.requestId, decideTxSignRequest(rules, request, new Date(now()), velocity)),
      ),
    onConfigChangeSignRequest: (request) =>
      serialized(() =>
        record(request.requestId, decideConfigChange(rules, request, new Date(now()))),
      ),
    audit: async (event) => {
      const rule = event.requestId === undefined ? undefined : decidedBy.get(event.requestId);
      if (event.requestId !== undefined) decidedBy.delete(event.requestId);
      await audit.append({ ...event, ...(rule === undefined ? {} : { rule }) });
    },
  });
}
