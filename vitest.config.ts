import { defineConfig } from 'vitest/config';

// Powertools writes JSON logs and EMF to stdout; tests assert on behaviour, not on that noise.
const quietPowertools = {
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

// The environment the run started with, before the integration setup adds the emulator's:
// what the packed package's own project runs in.
const outerEnv = Object.fromEntries(
  Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'],
          environment: 'node',
          env: quietPowertools,
          // A file's first synthesis bundles its Lambda entries with esbuild, which takes
          // several seconds on a busy two-core machine.
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          env: quietPowertools,
          globalSetup: ['test/integration/global-setup.ts'],
          // One file at a time on any machine: the emulator's Lambda workers and log
          // collection are timing sensitive, and the soak counts what its logs show.
          maxWorkers: 1,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          // The packed package in a project of its own, which starts its own emulators: it
          // needs none of the suite's, so it runs beside the integration tests.
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          provide: { outerEnv },
          environment: 'node',
          env: quietPowertools,
          testTimeout: 300_000,
          hookTimeout: 900_000,
        },
      },
    ],
  },
});
