/**
 * The Callback Handler step of a SIGN job (ARCHITECTURE §4 step 5, docs/callback-handler.md "What
 * a signing or approval job must do around the gate"; raw-signing review C1, L4). An API
 * co-signer asks the handler of the job's API key before it claims the message or sends any MPC
 * message; only APPROVE lets the job go on. Cloud co-signers have no handlers and skip the step.
 *
 * The `tx_sign_request` is built from the verified signing authorization only — transaction id,
 * the message's content, path and algorithm, and this API key as the signer — never from the
 * job's unsigned fields. What the authorization does not carry (asset, source, destination,
 * note) is sent empty and the amounts as "0": a RAW request names no amount the co-signer could
 * vouch for.
 *
 * `requestId` = `{txId}:{messageIndex}:{first 32 hex digits of SHA-256 over the payload}`: unique
 * per transaction, message and content (so one request id never stands for two payloads, and no
 * store record is needed to enforce it), and the same for every re-ask after RETRY and for a
 * fresh session of the same message.
 *
 * RETRY is re-asked per the gate's policy, but never past the session's deadline: a re-ask that
 * could not finish before the authorization (or the lease) expires is not made, and the job fails
 * with CALLBACK_SESSION_DEADLINE. The platform then offers a fresh session, asked with the same
 * request id.
 * @module
 */
import { createHash } from 'node:crypto';

import {
  CALLBACK_RESPONSE_TIMEOUT_SECONDS,
  type LeasedJob,
  type SigningAuthorization,
  type TxSignRequest,
} from '@countersign/protocol';
import type { CallbackPayload } from '../callback/callback-client.js';
import { askCallbackHandler, type CallbackGateOptions } from '../callback/callback-gate.js';
import type { CallbackOutcome, CallbackRequestKind } from '../callback/callback-outcome.js';
import { realSleep, type Sleep } from '../callback/callback-retry.js';
import { CosignerError } from '../errors.js';
import type { JobContext } from './job-context.js';

/**
 * Sub-statuses a SIGN or RESHARE job reports when its Callback Handler did not approve, or —
 * PAIRING_NOT_GUARDED, RESHARE only (pairing-guard.ts) — when no handler guards a pairing and the
 * operator did not opt in to dealing without one.
 */
export type SignRefusalSubStatus =
  | 'REJECTED_BY_CALLBACK'
  | 'IGNORED_BY_CALLBACK'
  | 'PAIRING_NOT_GUARDED'
  | 'CALLBACK_SESSION_DEADLINE'
  | Extract<CallbackOutcome, { action: 'FAILED' }>['subStatus'];

/**
 * The job did not sign (or deal) because its Callback Handler did not approve, or no handler
 * guards a pairing. Reported to the platform as FAILED with `subStatus` and `detail` (for REJECT:
 * the handler's rejectionReason).
 */
export class SignRefusedByCallback extends Error {
  readonly subStatus: SignRefusalSubStatus;
  readonly detail: string;

  constructor(subStatus: SignRefusalSubStatus, detail: string) {
    super(`${subStatus}${detail === '' ? '' : `: ${detail}`}`);
    this.name = 'SignRefusedByCallback';
    this.subStatus = subStatus;
    this.detail = detail;
  }
}

/** Margin kept before the deadline so the job can still report: one ask's timeout and 5 s. */
const DEADLINE_MARGIN_MS = CALLBACK_RESPONSE_TIMEOUT_SECONDS * 1000 + 5_000;

/** The payload for one message, from the verified authorization only. */
export function txSignRequestFor(
  authorization: SigningAuthorization,
  apiKeyId: string,
): TxSignRequest {
  const rawMessage = {
    content: Buffer.from(authorization.content).toString('hex'),
    derivationPath: [...authorization.derivationPath],
    algorithm:
      authorization.algorithm === 'EDDSA_ED25519'
        ? ('MPC_EDDSA_ED25519' as const)
        : ('MPC_ECDSA_SECP256K1' as const),
  };
  const body = {
    txId: authorization.transactionId,
    operation: 'RAW',
    asset: '',
    sourceType: '',
    sourceId: '',
    destType: '',
    destId: '',
    destAddress: '',
    amountStr: '0',
    requestedAmountStr: '0',
    note: '',
    signerId: apiKeyId,
    destinations: [],
    rawMessages: [rawMessage],
  };
  const digest = createHash('sha256')
    .update(JSON.stringify({ messageIndex: authorization.messageIndex, ...body }))
    .digest('hex')
    .slice(0, 32);
  return {
    ...body,
    requestId: `${authorization.transactionId}:${authorization.messageIndex}:${digest}`,
  };
}

export interface SignCallbackOptions {
  /** The gate's options for tests (retry policy, sleep, client); signal and deadline are ours. */
  readonly gate?: Omit<CallbackGateOptions, 'signal'>;
  /** Milliseconds since the epoch (default Date.now). */
  readonly now?: () => number;
}

/**
 * Asks the job's Callback Handler (API mode only) and returns on APPROVE; throws
 * SignRefusedByCallback otherwise, CosignerError NOT_FOUND for an API key not paired here (L4).
 */
export async function approveByCallback(
  ctx: JobContext,
  job: LeasedJob,
  authorization: SigningAuthorization,
  options: SignCallbackOptions = {},
): Promise<void> {
  await decideByCallback(
    ctx,
    {
      apiKeyId: job.apiKeyId,
      kind: 'tx_sign_request',
      payload: txSignRequestFor(authorization, job.apiKeyId),
      expiresAt: authorization.expiresAt,
      leaseExpiresAt: job.leaseExpiresAt,
      what: 'signing authorization',
    },
    options,
  );
}

/** One question to the Callback Handler of `apiKeyId`, bounded by the session's deadline. */
export interface CallbackQuestion<K extends CallbackRequestKind> {
  readonly apiKeyId: string;
  readonly kind: K;
  readonly payload: CallbackPayload<K>;
  /** When the platform's authorization ends (ms since the epoch). */
  readonly expiresAt: number;
  readonly leaseExpiresAt: number;
  /** The authorization's name, for the error when it ends while the handler is asked. */
  readonly what: string;
}

/**
 * The gate around any job's Callback Handler step (SIGN: tx_sign_request; RESHARE:
 * config_change_sign_request): API mode only; returns on APPROVE, throws SignRefusedByCallback
 * otherwise, with RETRY re-asked only while an answer can still come before the deadline.
 */
export async function decideByCallback<K extends CallbackRequestKind>(
  ctx: JobContext,
  question: CallbackQuestion<K>,
  options: SignCallbackOptions = {},
): Promise<void> {
  if (ctx.mode === 'cloud') return;
  const now = options.now ?? Date.now;
  const deadline = Math.min(question.expiresAt, question.leaseExpiresAt) - DEADLINE_MARGIN_MS;
  // Time for an answer is needed only where there is someone to ask: with no handler the gate
  // approves at once (after its pairing checks), whatever the lease length.
  const handler = ctx.store.pairedApiKeys.getPairedApiKey(question.apiKeyId)?.callbackHandler;
  if (handler !== undefined && handler !== null && now() >= deadline)
    throw new SignRefusedByCallback('CALLBACK_SESSION_DEADLINE', 'the session expires too soon');
  const stop = new AbortController();
  let pastDeadline = false;
  const onAbort = (): void => stop.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal.aborted) stop.abort();
  const sleep: Sleep = options.gate?.sleep ?? realSleep;
  const boundedSleep: Sleep = async (ms, signal) => {
    if (now() + ms >= deadline) {
      // The re-ask could not be answered before the session ends: do not make it.
      pastDeadline = true;
      stop.abort();
      return;
    }
    await sleep(ms, signal);
  };
  try {
    const { outcome } = await askCallbackHandler(
      ctx.store,
      question.apiKeyId,
      question.kind,
      question.payload,
      { ...options.gate, sleep: boundedSleep, signal: stop.signal },
    );
    switch (outcome.action) {
      case 'APPROVE':
        break;
      case 'REJECT':
        throw new SignRefusedByCallback('REJECTED_BY_CALLBACK', outcome.rejectionReason);
      case 'IGNORE':
        throw new SignRefusedByCallback('IGNORED_BY_CALLBACK', 'the handler answered IGNORE');
      case 'RETRY':
        // The gate never returns RETRY; refuse rather than sign if it ever did.
        throw new SignRefusedByCallback('CALLBACK_RETRIES_EXHAUSTED', 'RETRY');
      case 'FAILED':
        if (pastDeadline && outcome.subStatus === 'CALLBACK_ABORTED')
          throw new SignRefusedByCallback(
            'CALLBACK_SESSION_DEADLINE',
            'the handler answered RETRY until the session would expire',
          );
        throw new SignRefusedByCallback(outcome.subStatus, outcome.detail);
    }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  // A late APPROVE counts only while the platform's authorization still holds.
  if (now() >= question.expiresAt)
    throw new CosignerError('ERR_COSIGNER_CONFLICT', {
      detail: `the ${question.what} expired while the Callback Handler was asked`,
    });
}
