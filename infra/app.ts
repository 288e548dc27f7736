import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack } from './example/example-stack.js';
import { acknowledgeAcceptedFindings } from './example/nag-suppressions.js';

/**
 * The example app, checked by cdk-nag. Context `eventbox:emulator=true` deploys it to the
 * local emulator; `eventbox:functionEnvironment` (JSON) adds environment to its functions.
 */
const app = new App();
const emulator = app.node.tryGetContext('eventbox:emulator') === 'true';
const environment = app.node.tryGetContext('eventbox:functionEnvironment');
const stack = new ExampleStack(
  app,
  app.node.tryGetContext('eventbox:stackName') ?? 'EventboxExample',
  {
    emulator,
    faults: app.node.tryGetContext('eventbox:faults') === 'true',
    ...(environment ? { functionEnvironment: JSON.parse(environment) } : {}),
  },
);
acknowledgeAcceptedFindings(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
