/**
 * `@countersign/mpc/frost-aggregate`: what RFC 9591's Coordinator needs and nothing else — the
 * aggregation of FROST signature shares made from a pooled nonce set, from public values only
 * (the public share set, the commitment list, the message, the path, the shares), and the
 * commitment list's points, to refuse one made twice. The aggregation can be prepared before the
 * shares exist (`frostAggregator`), and only summed and verified once they are in. The platform
 * imports this subpath (docs/decisions/0006) besides `./derivation`, and no other part of mpc.
 * @module
 */
export {
  frostAggregate,
  frostAggregator,
  frostCommitmentPoints,
  type EncodedCommitment,
  type FrostAggregateParams,
  type FrostAggregator,
  type FrostAggregatorParams,
} from './frost-nonce-set.js';
export { decodePublicShareSet, type PublicShareSet } from './key-share.js';
export type { SignatureResult } from './frost-sign.js';
export { MpcError, isMpcError } from './errors.js';
