import { defineConfig } from 'vitest/config';

/**
 * The suites `npm run mutate` runs each mutant against: the unit and in-memory tests of
 * the modules whose guards carry the guarantees. No emulator: a mutant runs in seconds.
 */
export default defineConfig({
  test: {
    include: [
      'test/unit/transaction/**/*.test.ts',
      'test/unit/consumer/**/*.test.ts',
      'test/unit/jobs/**/*.test.ts',
      'test/unit/cli/**/*.test.ts',
    ],
    environment: 'node',
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    testTimeout: 30_000,
  },
});
