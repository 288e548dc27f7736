import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import {
  ACCEPTED_CHECKOV_FINDINGS,
  type ExampleVariant,
} from '../../infra/example/checkov-suppressions.js';
import { ExampleStack } from '../../infra/example/example-stack.js';
import { type CheckovFinding, checkov } from '../helpers/checkov.js';

type Template = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
};

function example(variant: ExampleVariant): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new ExampleStack(app, 'Example', { encrypted: variant === 'encrypted' });
  return app.synth().getStackByName(stack.stackName).template as Template;
}

/** The findings no accepted entry covers, and the entries that covered nothing. */
function judge(variant: ExampleVariant, template: Template, findings: readonly CheckovFinding[]) {
  const entries = ACCEPTED_CHECKOV_FINDINGS.filter((e) => e.variants.includes(variant));
  const covers = (f: CheckovFinding) =>
    entries.find(
      (e) =>
        e.check === f.checkId &&
        e.resourceType === f.resourceType &&
        (e.when?.(template.Resources[f.logicalId]?.Properties ?? {}) ?? true),
    );
  return {
    unexplained: findings
      .filter((f) => !covers(f))
      .map((f) => `${f.checkId} ${f.resourceType}.${f.logicalId}: ${f.checkName}`),
    stale: entries
      .filter((e) => !findings.some((f) => covers(f) === e))
      .map((e) => `${e.check} on ${e.resourceType}`),
  };
}

describe('Example app under checkov', () => {
  for (const variant of ['plain', 'encrypted'] as const) {
    it(`${variant}: has no finding but the accepted ones, each with its reason, and no stale acceptance`, () => {
      const template = example(variant);

      const findings = checkov(template);

      expect(findings.length).toBeGreaterThan(0);
      expect(judge(variant, template, findings)).toStrictEqual({ unexplained: [], stale: [] });
    }, 300_000);
  }

  it('reports an unencrypted queue that the acceptance does not cover', () => {
    const template = example('plain');
    const [id, queue] = Object.entries(template.Resources).find(
      ([, r]) => r.Type === 'AWS::SQS::Queue',
    ) as [string, { Properties: Record<string, unknown> }];
    delete queue.Properties.SqsManagedSseEnabled;

    const { unexplained } = judge('plain', template, checkov(template));

    expect(unexplained).toContainEqual(expect.stringMatching(new RegExp(`^CKV_AWS_27 .*${id}`)));
  }, 300_000);
});
