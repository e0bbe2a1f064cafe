/**
 * The co-signer's secure MPC channel over the platform relay (ARCHITECTURE.md §5): party
 * identity keys (Ed25519, RFC 8032; X25519, RFC 7748), platform-signed session rosters, and
 * sealed messages (HKDF-SHA256, RFC 5869; XChaCha20-Poly1305, draft-irtf-cfrg-xchacha).
 * Format and threat model: docs/channel.md.
 * @module
 */
export {
  ChannelError,
  CRYPTO_FAILURE_MESSAGE,
  isChannelError,
  type ChannelErrorCode,
  type ChannelErrorOptions,
} from './channel-errors.js';
export { assertIdentityKey } from './ed25519-strict.js';
export {
  assertAgreementKey,
  PartyIdentity,
  type PartyPublicKeys,
  type PartySecretKeys,
} from './identity.js';
export {
  decodeRoster,
  decodeSignedRoster,
  encodeRoster,
  ROSTER_DOMAIN_TAG,
  signRoster,
  VerifiedRoster,
  verifyRoster,
  type ExpectedRoster,
  type Roster,
  type RosterParty,
  type RosterPurpose,
  type SignedRoster,
  type VerifyRosterOptions,
} from './roster.js';
export {
  decodeSealedMessage,
  encodeMessageHeader,
  routingHeaderOf,
  SEALED_MESSAGE_VERSION,
  type MessageHeader,
  type RoutingHeader,
  type SealedMessage,
} from './sealed-message.js';
export {
  MESSAGE_DOMAIN_TAG,
  SecureChannel,
  type OpenResult,
  type SecureChannelOptions,
} from './secure-channel.js';
