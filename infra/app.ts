import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack } from './example/example-stack.js';
import { acknowledgeAcceptedFindings } from './example/nag-suppressions.js';

/**
 * The example app, checked by cdk-nag. Context `eventbox:functionEnvironment` (JSON) adds
 * environment to its functions; `eventbox:faults=true` deploys the fault-injecting ones;
 * `eventbox:notYetMaxAttempts` sets user-score's "not yet" budget.
 */
const app = new App();
const environment = app.node.tryGetContext('eventbox:functionEnvironment');
const stack = new ExampleStack(
  app,
  app.node.tryGetContext('eventbox:stackName') ?? 'EventboxExample',
  {
    faults: app.node.tryGetContext('eventbox:faults') === 'true',
    ...(app.node.tryGetContext('eventbox:notYetMaxAttempts')
      ? { notYetMaxAttempts: Number(app.node.tryGetContext('eventbox:notYetMaxAttempts')) }
      : {}),
    ...(environment ? { functionEnvironment: JSON.parse(environment) } : {}),
  },
);
acknowledgeAcceptedFindings(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
