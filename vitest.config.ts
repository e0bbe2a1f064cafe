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
  },
});
