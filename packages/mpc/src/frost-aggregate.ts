/**
 * `@countersign/mpc/frost-aggregate`: what RFC 9591's Coordinator needs and nothing else — the
 * aggregation of FROST signature shares made from a pooled nonce set, from public values only
 * (the public share set, the commitment list, the message, the path, the shares), and the
 * commitment list's points, to refuse one made twice. The platform
 * imports this subpath (docs/decisions/0006) besides `./derivation`, and no other part of mpc.
 * @module
 */
export {
  frostAggregate,
  frostCommitmentPoints,
  type EncodedCommitment,
  type FrostAggregateParams,
} from './frost-nonce-set.js';
export { decodePublicShareSet, type PublicShareSet } from './key-share.js';
export type { SignatureResult } from './frost-sign.js';
export { MpcError, isMpcError } from './errors.js';
