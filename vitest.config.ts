import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // One fixed fast-check seed: the same commit, the same draws (FAST_CHECK_SEED overrides).
    setupFiles: ['test/support/fast-check-seed.ts'],
    // The JSON report is what `.ci/run` counts; the default reporter is for people.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
