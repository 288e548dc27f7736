// @ts-check
/**
 * `npm run mutate`: StrykerJS over the modules whose guards carry the guarantees, each
 * mutant run against the unit and in-memory suites (test/mutation/vitest.config.ts).
 * Not part of `npm test`: it takes tens of minutes. The HTML and JSON reports are written
 * to reports/mutation/.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'test/mutation/vitest.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  coverageAnalysis: 'perTest',
  mutate: [
    'lib/transaction/{cancellation,guards,planners,conditions,transaction}.ts',
    'lib/consumer/engine.ts',
    'lib/consumer/inbox-modes.ts',
    'lib/consumer/inbox/*.ts',
    'lib/jobs/{decisions,transitions}.ts',
    'lib/cli/{letters,outbox}.ts',
  ],
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  // The sandbox is the code and its tests: not the venvs, logs and builds beside them.
  ignorePatterns: ['.eventbox', '.venv', 'cdk.out', 'dist', 'reports', '.scratch', 'coverage'],
  thresholds: { high: 90, low: 80, break: null },
};
