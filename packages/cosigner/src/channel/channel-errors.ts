/**
 * Errors of the secure MPC channel (ARCHITECTURE.md §5; docs/channel.md).
 *
 * One class, {@link ChannelError}, with a stable `code` (`ERR_CHANNEL_<REASON>`). Messages are
 * fixed per code and never contain key material or plaintext. Every cryptographic failure
 * (roster signature, message signature, AEAD) carries the same fixed text and no detail or
 * `cause`, so the error text is no oracle (the model is panva/jose).
 *
 * Two party indices may be attached, on purpose distinct:
 * - `claimedSender`: the sender index written in the (unauthenticated) message header. It tells
 *   the operator which stream a refused message pretended to belong to; it proves nothing,
 *   because the relay can write any index there.
 * - `culprit`: a party whose *signed* message is at fault (a signed ciphertext that does not
 *   decrypt, two different signed messages for one slot). Only these are attributable; an
 *   unauthenticated failure never names a culprit, so a relay cannot frame an honest party.
 * @module
 */

/** Every error code of the channel. */
export type ChannelErrorCode =
  | 'ERR_CHANNEL_INVALID_ARGUMENT'
  | 'ERR_CHANNEL_DISPOSED'
  | 'ERR_CHANNEL_MALFORMED'
  | 'ERR_CHANNEL_ROSTER_SIGNATURE_INVALID'
  | 'ERR_CHANNEL_ROSTER_EXPIRED'
  | 'ERR_CHANNEL_ROSTER_INVALID'
  | 'ERR_CHANNEL_ROSTER_MISMATCH'
  | 'ERR_CHANNEL_NOT_IN_ROSTER'
  | 'ERR_CHANNEL_WRONG_SESSION'
  | 'ERR_CHANNEL_UNKNOWN_SENDER'
  | 'ERR_CHANNEL_WRONG_RECIPIENT'
  | 'ERR_CHANNEL_SIGNATURE_INVALID'
  | 'ERR_CHANNEL_DECRYPTION_FAILED'
  | 'ERR_CHANNEL_CONFLICTING_MESSAGE';

/** The one text of every cryptographic verification failure. */
export const CRYPTO_FAILURE_MESSAGE = 'cryptographic verification failed';

const MESSAGES: Record<ChannelErrorCode, string> = {
  ERR_CHANNEL_INVALID_ARGUMENT: 'invalid argument',
  ERR_CHANNEL_DISPOSED: 'key material was disposed',
  ERR_CHANNEL_MALFORMED: 'malformed encoding',
  ERR_CHANNEL_ROSTER_SIGNATURE_INVALID: CRYPTO_FAILURE_MESSAGE,
  ERR_CHANNEL_ROSTER_EXPIRED: 'roster expired',
  ERR_CHANNEL_ROSTER_INVALID: 'invalid roster',
  ERR_CHANNEL_ROSTER_MISMATCH: 'roster is not the one expected for this job',
  ERR_CHANNEL_NOT_IN_ROSTER: 'this party is not exactly once in the roster',
  ERR_CHANNEL_WRONG_SESSION: 'message belongs to another session or protocol',
  ERR_CHANNEL_UNKNOWN_SENDER: 'sender is not another party of the roster',
  ERR_CHANNEL_WRONG_RECIPIENT: 'message addressed to another party',
  ERR_CHANNEL_SIGNATURE_INVALID: CRYPTO_FAILURE_MESSAGE,
  ERR_CHANNEL_DECRYPTION_FAILED: CRYPTO_FAILURE_MESSAGE,
  ERR_CHANNEL_CONFLICTING_MESSAGE:
    'second, different message from the same sender for the same round and recipient',
};

/** Codes whose message must stay fixed: no detail, no cause. */
const CRYPTO_CODES: ReadonlySet<ChannelErrorCode> = new Set([
  'ERR_CHANNEL_ROSTER_SIGNATURE_INVALID',
  'ERR_CHANNEL_SIGNATURE_INVALID',
  'ERR_CHANNEL_DECRYPTION_FAILED',
]);

/** Options of {@link ChannelError}. */
export interface ChannelErrorOptions {
  /** A party whose authenticated message is at fault. */
  readonly culprit?: number | undefined;
  /** The sender index claimed by an unauthenticated header. */
  readonly claimedSender?: number | undefined;
  /** A short, public detail (a field name); dropped for cryptographic failures. */
  readonly detail?: string | undefined;
  /** Underlying error; dropped for cryptographic failures. */
  readonly cause?: unknown;
}

/** The error thrown by every function of the secure channel. */
export class ChannelError extends Error {
  readonly code: ChannelErrorCode;
  readonly culprit: number | undefined;
  readonly claimedSender: number | undefined;

  constructor(code: ChannelErrorCode, options: ChannelErrorOptions = {}) {
    const fixed = CRYPTO_CODES.has(code);
    const parts = [MESSAGES[code]];
    if (options.culprit !== undefined) parts.push(` (party ${options.culprit})`);
    else if (options.claimedSender !== undefined)
      parts.push(` (claimed sender ${options.claimedSender})`);
    if (!fixed && options.detail !== undefined) parts.push(`: ${options.detail}`);
    super(
      parts.join(''),
      fixed || options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'ChannelError';
    this.code = code;
    this.culprit = options.culprit;
    this.claimedSender = options.claimedSender ?? options.culprit;
  }
}

/** Whether `e` is a {@link ChannelError}, optionally with the given code. */
export function isChannelError(e: unknown, code?: ChannelErrorCode): e is ChannelError {
  return e instanceof ChannelError && (code === undefined || e.code === code);
}
