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
  }, 30_000);

  it('fails without the acknowledgments, so the check is live', () => {
    expect(() => exampleApp(false).synth()).toThrow(/AwsSolutions-(IAM4|IAM5|SQS3|SNS2)/);
  }, 30_000);
});

/** Actions AWS offers no resource-level permission for: only these may name `Resource: "*"`. */
const NO_RESOURCE_LEVEL = new Set([
  'dynamodb:ListStreams',
  // X-Ray tracing and CloudWatch Logs delivery of the example's state machine.
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

describe('Example app IAM', () => {
  const template = () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ExampleStack(app, 'Example');
    return app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
  };
  const statements = (resources: ReturnType<typeof template>['Resources']) =>
    Object.entries(resources).flatMap(([id, r]) =>
      r.Type === 'AWS::IAM::Policy'
        ? (
            (r.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> })
              .Statement ?? []
          ).map((s) => ({ id, Action: s.Action, Resource: s.Resource }))
        : [],
    );
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);

  it('names Resource "*" only for actions that have no resource-level permissions', () => {
    const wildcard = statements(template().Resources)
      .filter((s) => list(s.Resource).includes('*'))
      .flatMap((s) =>
        list(s.Action)
          .filter((a) => !NO_RESOURCE_LEVEL.has(String(a)))
          .map((a) => `${s.id}: ${a}`),
      );

    expect(wildcard).toStrictEqual([]);
  });

  it('gives no role the AWS managed AWSLambdaBasicExecutionRole (logs on any log group)', () => {
    const roles = Object.entries(template().Resources).filter(
      ([, r]) => r.Type === 'AWS::IAM::Role',
    );
    const basic = roles.filter(([, r]) =>
      JSON.stringify(r.Properties.ManagedPolicyArns ?? []).includes('AWSLambdaBasicExecutionRole'),
    );

    expect(roles.length).toBeGreaterThan(5);
    expect(basic.map(([id]) => id)).toStrictEqual([]);
  });
});
