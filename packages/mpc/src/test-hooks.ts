/**
 * Test-only entry points: sessions with injected randomness (deterministic tests, RFC 9591
 * vectors) and the `secp256k1-rfc9591` signing ciphersuite of the RFC vectors. Not exported
 * from `index.ts`, and the package's `exports` map exposes nothing else, so production code
 * cannot reach them; the public parameter types carry no randomness hook.
 * @module
 */
export { dkgForTesting, type DkgTestOptions } from './frost-dkg.js';
export { refreshForTesting, reshareForTesting, type ReshareTestOptions } from './frost-reshare.js';
export { signForTesting, type SignTestOptions } from './frost-sign.js';
export {
  dkls23DkgForTesting,
  dkls23RefreshForTesting,
  dkls23ReshareForTesting,
  type Dkls23KeygenTestOptions,
} from './dkls23/keygen.js';
export {
  dkls23PresignForTesting,
  presignContext,
  type Dkls23PresignTestOptions,
} from './dkls23/presign.js';
// DKLs23 internals for tests that play a malicious party (a KOS probe needs Bob's transpose and
// challenges with a doctored U; review 2026-11-27, F1).
export {
  challenges as kosChallenges,
  transpose as transposeColumns,
} from './dkls23/ot-extension.js';
export {
  beginFrostPreprocessForTesting,
  nonceSetInternalsForTesting,
  type FrostPreprocessTestOptions,
} from './frost-nonce-set.js';
