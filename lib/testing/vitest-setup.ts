import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type Emulator, type StartEmulatorOptions, startEmulator } from '../emulator/start.js';

/** What the global setup provides to tests: `inject('eventbox')`. */
export type EventboxTestEnvironment = Omit<Emulator, 'stop'>;

declare module 'vitest' {
  export interface ProvidedContext {
    eventbox: EventboxTestEnvironment;
  }
}

const SDK_VARIABLES = [
  'AWS_ENDPOINT_URL',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
];

/**
 * A vitest global setup that starts the emulator once for the whole run and stops it at
 * the end. Tests read it with `inject('eventbox')`; its endpoint, credentials and region
 * are also set on `process.env`, so SDK clients created in tests use it as they are.
 * With `AWS_ENDPOINT_URL` set it starts nothing and uses that endpoint.
 *
 * @example
 * // vitest.config.ts: globalSetup: ['eventbox/testing/vitest-setup']
 * // or, with options, in a setup file of your own:
 * export default eventboxGlobalSetup({ dynamoDbLocal: true });
 */
export function eventboxGlobalSetup(options: StartEmulatorOptions = {}) {
  return async function setup(project: TestProject): Promise<() => Promise<void>> {
    const emulator = await startEmulator(options);
    const { stop, ...provided } = emulator;
    // Only what SDK clients read: the CDK settings stay out, so that synth-only tests in the
    // same run still see an app deployed to AWS.
    const sdkEnv = Object.fromEntries(
      Object.entries(emulator.env).filter(([name]) => SDK_VARIABLES.includes(name)),
    );
    const previous = Object.fromEntries(
      Object.keys(sdkEnv).map((name) => [name, process.env[name]]),
    );
    Object.assign(process.env, sdkEnv);
    project.provide('eventbox', JSON.parse(JSON.stringify(provided)) as EventboxTestEnvironment);
    return async () => {
      await stop();
      for (const [name, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    };
  };
}

/** The global setup with the defaults: ministack only. */
export default eventboxGlobalSetup({
  dynamoDbLocal: process.env.EVENTBOX_DYNAMODB_LOCAL === 'true',
});
