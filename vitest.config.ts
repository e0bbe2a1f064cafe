import { defineConfig } from 'vitest/config';

/**
 * Files that need a process of their own: the end-to-end files (child processes, environment,
 * working directories) and the PKCS#11 test (the module initialises SoftHSM2 once per process).
 */
const ISOLATED = ['packages/cli/test/**/*.test.ts', 'packages/cosigner/test/kms-pkcs11.test.ts'];

// Tests import workspace packages from their TypeScript sources (the
// "@countersign/source" export condition), so no build is needed to run them.
export default defineConfig({
  resolve: { conditions: ['@countersign/source'] },
  ssr: { resolve: { conditions: ['@countersign/source'] } },
  test: {
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest runs CPUs − 1 files at once by default: one at a time on the 2-core CI machines,
    // while the end-to-end files spend much of their time waiting on child processes. Two at a
    // time took the suite from 1547 s to 999 s there, every test passing.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ISOLATED,
          // One module graph per worker, not per file: importing the platform (fastify, kysely,
          // PGlite) and the MPC code again for every file was a third of the unit files' time
          // (packages/platform: 136 s → 90 s). Each file still builds its own platform and store.
          isolate: false,
        },
      },
      { extends: true, test: { name: 'isolated', include: ISOLATED } },
    ],
  },
});
