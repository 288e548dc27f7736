import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ExampleStack } from '../../infra/example/example-stack.js';
import { acknowledgeAcceptedFindings } from '../../infra/example/nag-suppressions.js';
import {
  eventBridgeQueueActions,
  kindByName,
  type Resources,
  uncalledActions,
  unencryptedOrUnbounded,
  unscopedServiceStatements,
  wildcardResources,
} from '../helpers/template-invariants.js';

function exampleApp(acknowledge: boolean, encrypted = false) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ExampleStack(app, 'Example', { encrypted });
  if (acknowledge) acknowledgeAcceptedFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

describe('Example app under cdk-nag (AwsSolutions)', () => {
  it('has no findings left once the accepted ones are acknowledged with their reasons', () => {
    expect(() => exampleApp(true).synth()).not.toThrow();
    expect(() => exampleApp(true, true).synth()).not.toThrow();
  }, 60_000);

  it('fails without the acknowledgments, so the check is live', () => {
    expect(() => exampleApp(false).synth()).toThrow(/AwsSolutions-(IAM4|IAM5|SQS3|SNS2)/);
  }, 30_000);
});

describe('Example app IAM and encryption', () => {
  for (const encrypted of [false, true]) {
    const variant = encrypted ? 'encrypted' : 'plain';
    const template = () => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new ExampleStack(app, 'Example', { encrypted });
      return app.synth().getStackByName(stack.stackName).template as { Resources: Resources };
    };

    it(`${variant}: names Resource "*" only for actions that have no resource-level permissions`, () => {
      expect(wildcardResources(template().Resources)).toStrictEqual([]);
    });

    it(`${variant}: lets no service principal in without a condition naming its source`, () => {
      const resources = template().Resources;

      expect(unscopedServiceStatements(resources)).toStrictEqual([]);
      expect(eventBridgeQueueActions(resources)).toStrictEqual([]);
    });

    it(`${variant}: grants Eventbox's functions only what their runtimes call`, () => {
      expect(uncalledActions(template().Resources, kindByName(['fulfilment']))).toStrictEqual([]);
    });

    it(`${variant}: encrypts every queue, table${encrypted ? ', topic' : ''} and log group, each with a retention`, () => {
      expect(unencryptedOrUnbounded(template().Resources, encrypted)).toStrictEqual([]);
    });
  }

  it('gives no role the AWS managed AWSLambdaBasicExecutionRole (logs on any log group)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ExampleStack(app, 'Example');
    const resources = (
      app.synth().getStackByName(stack.stackName).template as { Resources: Resources }
    ).Resources;
    const roles = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
    const basic = roles.filter(([, r]) =>
      JSON.stringify(r.Properties?.ManagedPolicyArns ?? []).includes('AWSLambdaBasicExecutionRole'),
    );

    expect(roles.length).toBeGreaterThan(5);
    expect(basic.map(([id]) => id)).toStrictEqual([]);
  });
});
