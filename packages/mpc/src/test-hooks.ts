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
