import type { App } from 'aws-cdk-lib';
import type { ExampleStackProps } from './example-stack.js';

/**
 * The example stack's name and settings from the app's context: `eventbox:stackName`,
 * `eventbox:functionEnvironment` (JSON, added to every function) and
 * `eventbox:notYetMaxAttempts` (user-score's "not yet" budget).
 */
export function exampleFromContext(app: App): { stackName: string; props: ExampleStackProps } {
  const environment = app.node.tryGetContext('eventbox:functionEnvironment');
  const notYet = app.node.tryGetContext('eventbox:notYetMaxAttempts');
  return {
    stackName: app.node.tryGetContext('eventbox:stackName') ?? 'EventboxExample',
    props: {
      ...(notYet ? { notYetMaxAttempts: Number(notYet) } : {}),
      ...(environment ? { functionEnvironment: JSON.parse(environment) } : {}),
    },
  };
}
