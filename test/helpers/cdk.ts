import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';

/** A fresh stack in an app that skips esbuild bundling: infra tests look at templates only. */
export function testStack(context: Record<string, unknown> = {}): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return new Stack(app, 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
}

export type PolicyStatement = { Action: string | string[]; Resource: unknown; Principal?: unknown };

/** The statements of the IAM policies attached to roles whose logical id starts with `rolePrefix`. */
export function statementsOf(template: Template, rolePrefix: string): PolicyStatement[] {
  return Object.values(
    template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${rolePrefix}`) }] },
    }),
  ).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }).Properties
        .PolicyDocument.Statement,
  );
}
