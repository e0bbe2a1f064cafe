/**
 * `@countersign/mpc`: threshold signing for Countersign (ARCHITECTURE.md §2–3).
 *
 * Sessions are transport-agnostic state machines: create one, `start()` it, send the messages
 * it returns (encode with {@link encodeMessage}; point-to-point ones must be encrypted by the
 * transport), feed it every message addressed to you with `receive(bytes)`, and read
 * `result()` once `status === 'done'`. Persist with `toBytes()` and {@link resumeSession}.
 * @module
 */
import { MpcError } from './errors.js';
import { loadDkg } from './frost-dkg.js';
import { loadReshare } from './frost-reshare.js';
import { loadSign } from './frost-sign.js';
import { loadDkls23Keygen } from './dkls23/keygen.js';
import { loadDkls23Presign } from './dkls23/presign.js';
import { restoreDkls23CheckError } from './dkls23/check-error.js';
import { Session, type FailureLoader, type ProtocolLoader } from './session.js';

export { MpcError, isMpcError, type MpcErrorCode, type MpcErrorOptions } from './errors.js';
export type { CurveName, RandomSource } from './curve-suite.js';
export { encodeMessage, decodeMessage, type ProtocolMessage, type Recipient } from './message.js';
export { Session, type SessionStatus } from './session.js';
export { dkg, type DkgParams } from './frost-dkg.js';
export {
  reshare,
  refresh,
  type ReshareParams,
  type RefreshParams,
  type ReshareResult,
} from './frost-reshare.js';
export { sign, type SignParams, type SignatureResult } from './frost-sign.js';
export type { FrostCiphersuite } from './frost-ciphersuite.js';
export {
  beginFrostPreprocess,
  exportFrostNonceSet,
  frostAggregate,
  frostAggregator,
  frostCommitmentList,
  frostCommitmentPoints,
  frostNonceSetCommitmentList,
  frostPooledSignatureShare,
  importFrostNonceSet,
  wipeFrostNonceSet,
  type EncodedCommitment,
  type FrostAggregator,
  type FrostAggregatorParams,
  type FrostNonceCommitter,
  type FrostNonceSet,
  type FrostAggregateParams,
  type FrostPooledShareParams,
  type FrostPreprocessParams,
} from './frost-nonce-set.js';
export {
  derivePublicKey,
  parsePath,
  type DerivationPath,
  type DerivationRoot,
  type DerivedPublicKey,
} from './derivation.js';
export {
  decodePublicShareSet,
  encodePublicShareSet,
  exportKeyShare,
  publicShareSet,
  wipeKeyShare,
  type KeyShare,
  type PublicShareSet,
} from './key-share.js';
export { importKeyShare } from './frost-share-set.js';
export {
  dkls23Dkg,
  dkls23Reshare,
  dkls23Refresh,
  type Dkls23DkgParams,
  type Dkls23ReshareParams,
  type Dkls23RefreshParams,
  type Dkls23ReshareResult,
} from './dkls23/keygen.js';
export {
  exportDkls23KeyShare,
  importDkls23KeyShare,
  wipeDkls23KeyShare,
  shareSetId,
  DKLS23_KEY_SHARE_VERSION,
  type Dkls23KeyShare,
  type Dkls23Pair,
} from './dkls23/key-share.js';
export { Dkls23CheckError, type Dkls23Check } from './dkls23/check-error.js';
export { applyDkls23Ban, markAllDkls23SetupsDestroyed } from './dkls23/ban.js';
export {
  dkls23Presign,
  presignSessionId,
  NonDurablePresignSessionRegistry,
  type Dkls23PresignParams,
  type PresignSessionRegistry,
} from './dkls23/presign.js';
export {
  exportPresignature,
  importPresignature,
  presignatureId,
  wipePresignature,
  InMemoryPresignatureStore,
  type Dkls23Presignature,
  type PresignatureStore,
} from './dkls23/presignature.js';
export {
  combineSignatureShares,
  createSignatureShare,
  decodeSignatureShare,
  signingContext,
  type Dkls23Signature,
  type Dkls23SignParams,
  type Dkls23SigningContext,
} from './dkls23/sign.js';

// Protocol loader, and the loader of its typed errors' evidence (failed sessions, state v3).
const LOADERS: ReadonlyArray<[RegExp, ProtocolLoader<unknown>, FailureLoader?]> = [
  [/^frost-(ed25519|secp256k1)\/dkg\/v1$/, loadDkg],
  [/^frost-(ed25519|secp256k1)\/(reshare|refresh)\/v1$/, loadReshare],
  [/^frost-(ed25519|secp256k1-bip340|secp256k1-rfc9591)\/sign\/v1$/, loadSign],
  [/^dkls23-secp256k1\/(dkg|reshare|refresh)\/v1$/, loadDkls23Keygen, restoreDkls23CheckError],
  [/^dkls23-secp256k1\/presign\/v2$/, loadDkls23Presign, restoreDkls23CheckError],
];

/**
 * Restores a session serialized with `toBytes()`. The result type is the one of the session
 * that was saved; the caller knows which kind it persisted.
 */
export function resumeSession<R = unknown>(bytes: Uint8Array): Session<R> {
  const protocol = Session.peekProtocol(bytes);
  const entry = LOADERS.find(([re]) => re.test(protocol));
  if (entry === undefined) throw new MpcError('ERR_MPC_MALFORMED', { detail: 'unknown protocol' });
  return Session.restore(bytes, entry[1] as ProtocolLoader<R>, entry[2]);
}
