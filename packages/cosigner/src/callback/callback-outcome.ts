/**
 * What asking a Callback Handler comes to (ARCHITECTURE.md §7). Only APPROVE lets the co-signer
 * sign or approve; every failure has its own sub-status so an operator can tell a hung handler
 * from a forged answer. The reference docs name no sub-statuses for callback failures, so these
 * names are Countersign's own.
 * @module
 */
import type { CallbackAction } from '@countersign/protocol';

/** Why asking failed; the request is not signed. */
export type CallbackFailureSubStatus =
  /** No complete answer within the timeout (30 s by default). */
  | 'CALLBACK_TIMEOUT'
  /** Connection refused, reset, or the host unknown. */
  | 'CALLBACK_UNREACHABLE'
  /** JWT mode over https: the server's certificate did not verify (CA, name, expiry). */
  | 'CALLBACK_TLS_ERROR'
  /** Pinned-TLS mode: the server presented another key than the pinned one; nothing was sent. */
  | 'CALLBACK_TLS_PIN_MISMATCH'
  /** A status other than 200 (a 5xx, a 4xx, a redirect — redirects are not followed). */
  | 'CALLBACK_HTTP_ERROR'
  /** The answer was larger than the limit; it was not read. */
  | 'CALLBACK_RESPONSE_TOO_LARGE'
  /** Not a JWT (JWT mode) or not JSON (pinned mode) — an HTML page, garbage — or not a response. */
  | 'CALLBACK_MALFORMED_RESPONSE'
  /** JWT mode: not RS256 by the configured handler key (another key, another algorithm). */
  | 'CALLBACK_BAD_SIGNATURE'
  /** JWT mode: signed, but expired or issued in the future (clock skew beyond tolerance). */
  | 'CALLBACK_STALE_RESPONSE'
  /** The answer is for another request: a replayed old answer. */
  | 'CALLBACK_REQUEST_ID_MISMATCH'
  /** The handler kept answering RETRY until the retry budget ran out. */
  | 'CALLBACK_RETRIES_EXHAUSTED'
  /** The caller gave up (its AbortSignal fired), e.g. the co-signer is stopping. */
  | 'CALLBACK_ABORTED'
  /** The stored handler settings are unreadable: failing is the only safe answer. */
  | 'CALLBACK_CONFIG_INVALID'
  /**
   * While the request was being asked or waited on RETRY, its handler settings were changed or
   * cleared, or the API key unpaired: answers from the old settings count for nothing, and the
   * request is not asked again (the job may be offered anew under the new settings).
   */
  | 'CALLBACK_CONFIG_CHANGED'
  /** Too many requests already in progress for this handler (the per-handler cap); not sent. */
  | 'CALLBACK_HANDLER_BUSY';

/** The result of one ask. IGNORE leaves the decision to others: no signature, no approval. */
export type CallbackOutcome =
  | { readonly action: 'APPROVE' }
  | { readonly action: 'REJECT'; readonly rejectionReason: string }
  | { readonly action: 'RETRY' }
  | { readonly action: 'IGNORE' }
  | {
      readonly action: 'FAILED';
      readonly subStatus: CallbackFailureSubStatus;
      /** Short, fixed or numeric text (never the handler's body): "HTTP 503", "timeout 30000 ms". */
      readonly detail: string;
    };

/** One ask as it happened: everything an audit entry needs, no token, no key, no payload. */
export interface CallbackAttempt {
  readonly requestId: string;
  readonly kind: CallbackRequestKind;
  /** The URL asked: the handler's URL plus the request path (no credentials, no query). */
  readonly url: string;
  readonly mode: 'jwt' | 'pinned-tls';
  /** 1 for the first ask, 2 for the first re-ask after RETRY, … */
  readonly attempt: number;
  /** Milliseconds since the epoch, from the injected clock. */
  readonly startedAt: number;
  readonly finishedAt: number;
  /** The HTTP status, when an answer arrived. */
  readonly httpStatus?: number;
  readonly outcome: CallbackOutcome;
}

export type CallbackRequestKind = 'tx_sign_request' | 'config_change_sign_request';

export function failed(subStatus: CallbackFailureSubStatus, detail: string): CallbackOutcome {
  return { action: 'FAILED', subStatus, detail };
}

/** The outcome of a checked answer. */
export function outcomeOfAction(action: CallbackAction, rejectionReason?: string): CallbackOutcome {
  if (action === 'REJECT') return { action, rejectionReason: rejectionReason ?? '' };
  return { action };
}
