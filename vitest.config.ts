import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the
// "@countersign/source" export condition), so no build is needed to run them.
export default defineConfig({
  resolve: { conditions: ['@countersign/source'] },
  ssr: { resolve: { conditions: ['@countersign/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    globalSetup: ['./vitest.global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest runs CPUs − 1 files at once by default: one at a time on the 2-core CI machines,
    // while the end-to-end files spend much of their time waiting on child processes. Two at a
    // time took the suite from 1547 s to 999 s there, every test passing.
    maxWorkers: 2,
  },
});
