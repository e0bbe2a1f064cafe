/**
 * The one call a signing or approval job makes before it takes part (ARCHITECTURE.md §7): no
 * Callback Handler configured for the API user → approved automatically; otherwise ask it, ask
 * again on RETRY per the retry policy, and return the final outcome with every ask. Only an
 * APPROVE outcome may lead to a signature or an approval.
 *
 * The co-signer store has no audit log yet, so nothing is written here: each ask is handed to
 * `onAttempt` as it completes and all of them come back in `attempts`, with what an audit entry
 * needs (request id, kind, URL, mode, attempt number, times, HTTP status, outcome, sub-status).
 * @module
 */
import type { KeyObject } from 'node:crypto';

import { CosignerError } from '../errors.js';
import type { CosignerStore } from '../store/cosigner-store.js';
import {
  CallbackClient,
  type CallbackClientOptions,
  type CallbackPayload,
} from './callback-client.js';
import { parseCallbackHandler, type CallbackHandlerConfig } from './callback-handler-config.js';
import { loadCallbackKey } from './callback-key.js';
import { failed, type CallbackRequestKind } from './callback-outcome.js';
import { askUntilDecided, type RetryLoopOptions, type RetryLoopResult } from './callback-retry.js';

export interface CallbackGateOptions extends RetryLoopOptions {
  /** Timeout, response limit, clock skew and clock of each ask (defaults: 30 s, 64 KiB, 30 s). */
  readonly client?: Omit<CallbackClientOptions, 'handler' | 'cosignerKey'>;
}

export interface CallbackGateResult extends RetryLoopResult {
  /** False when no handler is configured: the outcome is an automatic APPROVE, nothing was sent. */
  readonly handlerConfigured: boolean;
}

/**
 * Before the co-signer signs (`tx_sign_request`) or approves (`config_change_sign_request`) for
 * `apiKeyId`: the decision of its Callback Handler, read from the store with the co-signer's
 * callback key. Throws ERR_COSIGNER_NOT_FOUND for an API key that was never paired here.
 */
export async function askCallbackHandler<K extends CallbackRequestKind>(
  store: CosignerStore,
  apiKeyId: string,
  kind: K,
  payload: CallbackPayload<K>,
  options: CallbackGateOptions = {},
): Promise<CallbackGateResult> {
  const paired = store.pairedApiKeys.getPairedApiKey(apiKeyId);
  if (paired === undefined) {
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', { detail: `API key ${apiKeyId}` });
  }
  return askStoredCallbackHandler(
    paired.callbackHandler,
    () => loadCallbackKey(store),
    kind,
    payload,
    options,
  );
}

/** The same, given the stored settings (null: none) and the callback key. */
export async function askStoredCallbackHandler<K extends CallbackRequestKind>(
  storedHandler: unknown,
  cosignerKey: () => KeyObject,
  kind: K,
  payload: CallbackPayload<K>,
  options: CallbackGateOptions = {},
): Promise<CallbackGateResult> {
  if (storedHandler === null || storedHandler === undefined) {
    return { outcome: { action: 'APPROVE' }, attempts: [], handlerConfigured: false };
  }
  let handler: CallbackHandlerConfig;
  try {
    handler = parseCallbackHandler(storedHandler);
  } catch (error) {
    if (!(error instanceof CosignerError)) throw error;
    // A damaged setting must fail closed: never fall back to signing without the handler.
    return {
      outcome: failed('CALLBACK_CONFIG_INVALID', error.message),
      attempts: [],
      handlerConfigured: true,
    };
  }
  const client = new CallbackClient({
    ...options.client,
    handler,
    cosignerKey: cosignerKey(),
  });
  const result = await askUntilDecided(
    (attempt, signal) =>
      client.ask(kind, payload, signal === undefined ? { attempt } : { attempt, signal }),
    options,
  );
  return { ...result, handlerConfigured: true };
}
