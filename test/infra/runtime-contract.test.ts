import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ExampleStack } from '../../infra/example/example-stack.js';
import { ConsumerEnvironment, ConsumerMetrics } from '../../lib/consumer/environment.js';
import { JobRunnerEnvironment, JobRunnerMetrics } from '../../lib/jobs/environment.js';
import { RelayEnvironment, RelayMetrics } from '../../lib/relay/environment.js';
import { METRICS_NAMESPACE } from '../../lib/shared/metrics-namespace.js';
import { sourceFiles } from '../helpers/import-graph.js';

const root = new URL('../..', import.meta.url).pathname;
const template = Template.fromStack(
  new ExampleStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Example'),
).toJSON() as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

const published = new Set<string>([
  ...Object.values(RelayMetrics),
  ...Object.values(ConsumerMetrics),
  ...Object.values(JobRunnerMetrics),
]);
const variables = new Set<string>([
  ...Object.values(RelayEnvironment),
  ...Object.values(ConsumerEnvironment),
  ...Object.values(JobRunnerEnvironment),
]);

/** Every `Eventbox` metric an alarm or a dashboard of the template reads. */
function metricsRead(): Set<string> {
  const names = new Set<string>();
  for (const resource of Object.values(template.Resources)) {
    const text = JSON.stringify(resource.Properties ?? {}).replaceAll('\\"', '"');
    if (resource.Type === 'AWS::CloudWatch::Alarm')
      for (const [, name] of text.matchAll(
        new RegExp(`"MetricName":"(\\w+)","Namespace":"${METRICS_NAMESPACE}"`, 'g'),
      ))
        names.add(name as string);
    if (resource.Type === 'AWS::CloudWatch::Dashboard')
      for (const [, name] of text.matchAll(new RegExp(`\\["${METRICS_NAMESPACE}","(\\w+)"`, 'g')))
        names.add(name as string);
  }
  return names;
}

describe('One contract between the constructs and the runtimes', () => {
  it('has every alarm and dashboard read a metric a runtime publishes', () => {
    const read = metricsRead();
    expect(read.size).toBeGreaterThan(5);
    expect([...read].filter((name) => !published.has(name))).toEqual([]);
  });

  it('has the runtimes publish metrics only by the names their tables list', () => {
    const literal: string[] = [];
    for (const file of sourceFiles(root, ['lib']))
      for (const [call] of readFileSync(`${root}${file}`, 'utf8').matchAll(/addMetric\(\s*'\w+'/g))
        literal.push(`${file}: ${call}`);
    expect(literal).toEqual([]);
  });

  it("sets on functions only the variables a runtime table names, besides the app's own", () => {
    const set = new Set<string>();
    for (const resource of Object.values(template.Resources))
      if (resource.Type === 'AWS::Lambda::Function') {
        const environment = (resource.Properties?.Environment as { Variables?: object } | undefined)
          ?.Variables;
        for (const name of Object.keys(environment ?? {})) set.add(name);
      }
    const eventboxNames = [...set].filter(
      (name) => name.startsWith('EVENTBOX_') || name.startsWith('POWERTOOLS_'),
    );
    expect(eventboxNames.length).toBeGreaterThan(5);
    // The example's own marker (EVENTBOX_EXAMPLE) is the app's, not a runtime's.
    expect(
      eventboxNames.filter((name) => !variables.has(name) && name !== 'EVENTBOX_EXAMPLE'),
    ).toEqual([]);
  });
});
