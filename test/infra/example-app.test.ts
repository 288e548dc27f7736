import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ExampleStack } from '../../infra/example/example-stack.js';
import { acknowledgeAcceptedFindings } from '../../infra/example/nag-suppressions.js';

function exampleApp(acknowledge: boolean) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ExampleStack(app, 'Example');
  if (acknowledge) acknowledgeAcceptedFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

describe('Example app under cdk-nag (AwsSolutions)', () => {
  it('has no findings left once the accepted ones are acknowledged with their reasons', () => {
    expect(() => exampleApp(true).synth()).not.toThrow();
  });

  it('fails without the acknowledgments, so the check is live', () => {
    expect(() => exampleApp(false).synth()).toThrow(/AwsSolutions-(IAM4|IAM5|SQS3|SNS2)/);
  });
});
