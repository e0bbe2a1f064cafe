/** Errors of the policy engine: a draft that cannot be read, or a verdict that cannot be reached. */
import { PlatformError, ValidationError } from '../errors.js';

/**
 * A draft that is not a policy: bad JSON shape, unknown field, out-of-range value. `path` is the
 * JSON pointer of the offending value; `ruleIndex` the zero-based rule it sits in, when it does.
 */
export class PolicyDecodeError extends ValidationError {
  readonly path: string;
  readonly ruleIndex: number | undefined;

  constructor(path: string, problem: string) {
    const ruleIndex = ruleIndexOf(path);
    const where = ruleIndex === undefined ? path : `rules[${ruleIndex}] (${path})`;
    super('ERR_POLICY_MALFORMED', 'INVALID_REQUEST', `policy draft: ${where}: ${problem}`);
    this.name = 'PolicyDecodeError';
    this.path = path;
    this.ruleIndex = ruleIndex;
  }
}

function ruleIndexOf(path: string): number | undefined {
  const match = /^\/rules\/(\d+)(\/|$)/.exec(path);
  return match === null ? undefined : Number(match[1]);
}

/**
 * A matched rule needs a price (USD/EUR amounts) that the price source cannot give. The verdict is
 * not guessed: the caller retries later or fails the transaction — 503, never a silent ALLOW.
 */
export class PolicyPriceUnavailableError extends PlatformError {
  constructor(assetId: string, currency: string) {
    super(
      'ERR_POLICY_PRICE_UNAVAILABLE',
      'UNAVAILABLE',
      503,
      `no ${currency} price for asset ${JSON.stringify(assetId.slice(0, 64))}`,
    );
    this.name = 'PolicyPriceUnavailableError';
  }
}
