import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { type Emulator, type StartEmulatorOptions, startEmulator } from './emulator/start.js';

/** What the global setup provides to tests: `inject('eventbox')`. */
export type EventboxTestEnvironment = Omit<Emulator, 'stop'>;

declare module 'vitest' {
  export interface ProvidedContext {
    eventbox: EventboxTestEnvironment;
  }
}

/**
 * A vitest global setup that starts the emulator once for the whole run and stops it at
 * the end. Tests read it with `inject('eventbox')`; its environment (endpoint, credentials,
 * region) is also set on `process.env`, so SDK clients created in tests use it as they are.
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
    const previous = Object.fromEntries(
      Object.keys(emulator.env).map((name) => [name, process.env[name]]),
    );
    Object.assign(process.env, emulator.env);
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
