import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ExampleStack } from '../../infra/example/example-stack.js';
import { cfnLint } from '../helpers/cfn-lint.js';

/**
 * W3005: a DependsOn that a GetAtt already implies. The CDK adds it on purpose, so that a
 * function is created only once its role's policy exists, not merely its role.
 */
const CDK_DEPENDENCIES = 'W3005';

describe('Example app under cfn-lint', () => {
  it.each([false, true])(
    'has no errors, and no warnings but the CDK role dependencies (encrypted: %s)',
    (encrypted) => {
      const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new ExampleStack(app, 'Example', { encrypted });
      const template = app.synth().getStackByName(stack.stackName).template;

      const findings = cfnLint(template).map(
        (f) => `${f.Level} ${f.Rule.Id} ${f.Location.Path.join('/')}: ${f.Message}`,
      );

      expect(findings.filter((f) => f.startsWith('Error'))).toStrictEqual([]);
      expect(findings.filter((f) => !f.includes(` ${CDK_DEPENDENCIES} `))).toStrictEqual([]);
    },
    180_000,
  );
});
