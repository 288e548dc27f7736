import type { TestProject } from 'vitest/node';
import { startEmulators } from '../emulator/environment.js';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoint: string;
    awsEnv: Record<string, string>;
    dynamoDbEngines: Array<{ name: string; endpoint: string }>;
  }
}

/** Starts the emulators once for the whole integration run and stops them at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const environment = await startEmulators();
  project.provide('awsEndpoint', environment.endpoint);
  project.provide('awsEnv', { ...environment.env });
  project.provide('dynamoDbEngines', [...environment.dynamoDbEngines]);
  return () => environment.stop();
}
