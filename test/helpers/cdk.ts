import { App, Stack } from 'aws-cdk-lib';

/** A fresh stack in an app that skips esbuild bundling: infra tests look at templates only. */
export function testStack(context: Record<string, unknown> = {}): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return new Stack(app, 'Test', { env: { account: '111111111111', region: 'eu-west-1' } });
}
