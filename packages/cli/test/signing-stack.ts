/** The multi-process signing stack lives in ../testing/ (shared with bench/). */
export * from '../testing/signing-stack.js';
