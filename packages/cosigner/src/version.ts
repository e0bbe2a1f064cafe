/** This release of the co-signer, reported to the platform at pairing. */
export const COSIGNER_VERSION = '0.1.0';
