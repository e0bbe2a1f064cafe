/**
 * The one call a signing or approval job makes before it takes part (ARCHITECTURE.md §7): no
 * Callback Handler configured for the API user → approved automatically; otherwise ask it, ask
 * again on RETRY per the retry policy, and return the final outcome with every ask. Only an
 * APPROVE outcome may lead to a signature or an approval.
 *
 * The settings are read again after every answer and before every re-ask: if they were changed
 * or cleared, or the API key unpaired, meanwhile, the request ends FAILED with
 * CALLBACK_CONFIG_CHANGED — an answer signed with a rotated-out key, or from a handler that was
 * removed, never counts (a RETRY loop can last about 70 minutes).
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
import { failed, type CallbackOutcome, type CallbackRequestKind } from './callback-outcome.js';
import { askUntilDecided, type RetryLoopOptions, type RetryLoopResult } from './callback-retry.js';

export interface CallbackGateOptions extends RetryLoopOptions {
  /** Timeout, response limit, clock skew and clock of each ask (defaults: 30 s, 64 KiB, 30 s). */
  readonly client?: Omit<CallbackClientOptions, 'handler' | 'cosignerKey'>;
  /** The cap on requests in progress per handler; default: one shared by the whole process. */
  readonly slots?: CallbackHandlerSlots;
}

/** Requests one handler may have in progress (asked or waiting on RETRY) at a time, by default. */
export const DEFAULT_MAX_REQUESTS_PER_HANDLER = 16;

/**
 * Caps the requests in progress per handler URL (review 2026-11-27 F11). A RETRY loop lasts up
 * to about 70 minutes and each holds its job and whatever the job reserved; past the cap a
 * request fails at once with CALLBACK_HANDLER_BUSY instead of joining the queue.
 */
export class CallbackHandlerSlots {
  readonly #max: number;
  readonly #inUse = new Map<string, number>();

  constructor(maxPerHandler = DEFAULT_MAX_REQUESTS_PER_HANDLER) {
    if (!Number.isSafeInteger(maxPerHandler) || maxPerHandler < 1) {
      throw new CosignerError('ERR_COSIGNER_INVALID_ARGUMENT', {
        detail: 'maxPerHandler must be a positive integer',
      });
    }
    this.#max = maxPerHandler;
  }

  /** Takes a slot for `handlerUrl`: the function that gives it back, or undefined if none is free. */
  take(handlerUrl: string): (() => void) | undefined {
    const used = this.#inUse.get(handlerUrl) ?? 0;
    if (used >= this.#max) return undefined;
    this.#inUse.set(handlerUrl, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inUse.get(handlerUrl) ?? 1) - 1;
      if (left === 0) this.#inUse.delete(handlerUrl);
      else this.#inUse.set(handlerUrl, left);
    };
  }
}

const sharedSlots = new CallbackHandlerSlots();

export interface CallbackGateResult extends RetryLoopResult {
  /** False when no handler is configured: the outcome is an automatic APPROVE, nothing was sent. */
  readonly handlerConfigured: boolean;
}

/**
 * Before the co-signer signs (`tx_sign_request`) or approves (`config_change_sign_request`) for
 * `apiKeyId`: the decision of its Callback Handler, read from the store with the co-signer's
 * callback key. Throws ERR_COSIGNER_NOT_FOUND for an API key that was never paired here or was
 * unpaired.
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
  if (paired.unpairedAt !== null) {
    // An unpaired API user gets nothing here, not even the automatic APPROVE (review F8).
    throw new CosignerError('ERR_COSIGNER_NOT_FOUND', {
      detail: `API key ${apiKeyId} was unpaired`,
    });
  }
  // Read again after every answer and before every re-ask (review 2026-11-27 F4).
  const readSettings = (): unknown => {
    const current = store.pairedApiKeys.getPairedApiKey(apiKeyId);
    return current === undefined || current.unpairedAt !== null
      ? UNPAIRED
      : current.callbackHandler;
  };
  return askWithSettings(
    paired.callbackHandler,
    readSettings,
    () => loadCallbackKey(store),
    kind,
    payload,
    options,
  );
}

/**
 * The same, given the stored settings (null: none) and the callback key. `readSettings`, when
 * given, returns the settings as stored now; see askCallbackHandler.
 */
export async function askStoredCallbackHandler<K extends CallbackRequestKind>(
  storedHandler: unknown,
  cosignerKey: () => KeyObject,
  kind: K,
  payload: CallbackPayload<K>,
  options: CallbackGateOptions & { readonly readSettings?: () => unknown } = {},
): Promise<CallbackGateResult> {
  const { readSettings = () => storedHandler, ...gateOptions } = options;
  return askWithSettings(storedHandler, readSettings, cosignerKey, kind, payload, gateOptions);
}

/** What a re-read finds when the API key is no longer paired here. */
const UNPAIRED: unique symbol = Symbol('unpaired');

async function askWithSettings<K extends CallbackRequestKind>(
  storedHandler: unknown,
  readSettings: () => unknown,
  cosignerKey: () => KeyObject,
  kind: K,
  payload: CallbackPayload<K>,
  options: CallbackGateOptions,
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
  const release = (options.slots ?? sharedSlots).take(handler.url.href);
  if (release === undefined) {
    return {
      outcome: failed('CALLBACK_HANDLER_BUSY', 'too many requests in progress for this handler'),
      attempts: [],
      handlerConfigured: true,
    };
  }
  try {
    const client = new CallbackClient({
      ...options.client,
      handler,
      cosignerKey: cosignerKey(),
    });
    const asked = JSON.stringify(storedHandler);
    const stillCurrent = (): CallbackOutcome | undefined => {
      const now = readSettings();
      if (now === UNPAIRED) return failed('CALLBACK_CONFIG_CHANGED', 'the API key was unpaired');
      if (now === null || now === undefined) {
        return failed('CALLBACK_CONFIG_CHANGED', 'the Callback Handler was cleared');
      }
      return JSON.stringify(now) === asked
        ? undefined
        : failed('CALLBACK_CONFIG_CHANGED', 'the Callback Handler settings were changed');
    };
    const result = await askUntilDecided(
      (attempt, signal) =>
        client.ask(kind, payload, signal === undefined ? { attempt } : { attempt, signal }),
      options,
      stillCurrent,
    );
    return { ...result, handlerConfigured: true };
  } finally {
    release();
  }
}
