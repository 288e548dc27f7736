import { fileURLToPath } from 'node:url';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBox } from '../../infra/constructs/event-box.js';
import { EventBoxConsumer } from '../../infra/constructs/event-box-consumer.js';
import { JobRunner } from '../../infra/constructs/job-runner.js';
import { testStack } from '../helpers/cdk.js';
import {
  eventBridgeQueueActions,
  functionKinds,
  kindByName,
  type Resources,
  uncalledActions,
  unencryptedOrUnbounded,
  unscopedServiceStatements,
  wildcardResources,
} from '../helpers/template-invariants.js';

const entry = (path: string) =>
  fileURLToPath(new URL(`../../functions/example/${path}`, import.meta.url));

const consumerShape = fc.record({
  publishTo: fc.constantFrom('none', 'box', 'bus'),
  importedTable: fc.boolean(),
  ownTopic: fc.boolean(),
});

const runnerShape = fc.record({
  publishTo: fc.constantFrom('box', 'bus', 'default'),
  stateMachine: fc.boolean(),
  durableFunction: fc.boolean(),
  stepTable: fc.constantFrom('none', 'box', 'own'),
});

/** One stack's worth of Eventbox constructs, drawn at random. */
const stackShape = fc.record({
  key: fc.constantFrom('none', 'own', 'imported'),
  importedBoxTable: fc.boolean(),
  additionalTables: fc.integer({ min: 0, max: 2 }),
  archive: fc.boolean(),
  alarms: fc.boolean(),
  consumers: fc.array(consumerShape, { maxLength: 3 }),
  runners: fc.array(runnerShape, { maxLength: 2 }),
});

type Shape = typeof stackShape extends fc.Arbitrary<infer T> ? T : never;

const importedTable = (stack: ReturnType<typeof testStack>, id: string, key?: kms.IKey) =>
  dynamodb.Table.fromTableAttributes(stack, id, {
    tableArn: `arn:aws:dynamodb:eu-west-1:111111111111:table/${id}`,
    tableStreamArn: `arn:aws:dynamodb:eu-west-1:111111111111:table/${id}/stream/2026-01-01T00:00:00.000`,
    ...(key ? { encryptionKey: key } : {}),
  });

function build(shape: Shape) {
  const stack = testStack();
  const key =
    shape.key === 'own'
      ? new kms.Key(stack, 'Key', { enableKeyRotation: true })
      : shape.key === 'imported'
        ? kms.Key.fromKeyArn(
            stack,
            'Key',
            'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555',
          )
        : undefined;
  const encryption = key ? { encryptionKey: key } : {};
  const box = new EventBox(stack, 'Box', {
    ...(shape.importedBoxTable ? { existingTable: importedTable(stack, 'Existing', key) } : {}),
    additionalTables: Array.from({ length: shape.additionalTables }, (_, i) =>
      importedTable(stack, `Tenant${i}`, key),
    ),
    archiveRetention: shape.archive ? undefined : false,
    alarms: shape.alarms,
    ...encryption,
  });
  const otherBus = new events.EventBus(stack, 'OtherBus');
  shape.consumers.forEach((c, i) => {
    const table = c.importedTable ? importedTable(stack, `Consumer${i}Table`, key) : undefined;
    new EventBoxConsumer(stack, `Consumer${i}`, {
      consumerName: `consumer-${i}`,
      eventBus: box.eventBus,
      eventPattern: { source: ['orders'] },
      entry: entry('user-score/index.ts'),
      ...(table ? { existingTable: table } : {}),
      ...(c.publishTo === 'box' ? { publishTo: box } : {}),
      ...(c.publishTo === 'bus' ? { publishTo: otherBus } : {}),
      ...(!c.ownTopic && box.alarmTopic ? { existingAlarmTopic: box.alarmTopic } : {}),
      alarms: shape.alarms,
      ...encryption,
    });
  });
  const runners = shape.runners.map((r, i) => {
    const runnerName = `runner-${i}`;
    const machine = r.stateMachine
      ? new sfn.StateMachine(stack, `Machine${i}`, {
          definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `Pass${i}`)),
        })
      : undefined;
    const durable = r.durableFunction
      ? lambda.Function.fromFunctionArn(
          stack,
          `Durable${i}`,
          `arn:aws:lambda:eu-west-1:111111111111:function:refund-${i}:live`,
        )
      : undefined;
    const stepTable =
      r.stepTable === 'box'
        ? box.table
        : r.stepTable === 'own'
          ? importedTable(stack, `Steps${i}`, key)
          : undefined;
    new JobRunner(stack, `Runner${i}`, {
      runnerName,
      eventBus: box.eventBus,
      entry: entry('fulfilment/runner.ts'),
      ...(r.publishTo === 'box' ? { publishTo: box } : {}),
      ...(r.publishTo === 'bus' ? { publishTo: otherBus } : {}),
      ...(machine ? { stateMachines: [machine] } : {}),
      ...(durable ? { durableFunctions: [durable] } : {}),
      ...(stepTable ? { stepTable } : {}),
      alarms: shape.alarms,
      ...encryption,
    });
    return runnerName;
  });
  return { stack, runners, keyed: shape.key !== 'none' };
}

/** Every invariant a synthesized stack must hold, as a list of violations. */
function violations(shape: Shape): string[] {
  const { stack, runners, keyed } = build(shape);
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const kinds = [...functionKinds(resources, kindByName(runners)).values()];
  const expected = {
    relay:
      1 +
      shape.consumers.filter((c) => c.publishTo === 'bus').length +
      shape.runners.filter((r) => r.publishTo !== 'box').length,
    consumer: shape.consumers.length,
    runner: shape.runners.length,
    dispatcher: shape.runners.filter((r) => r.stateMachine || r.durableFunction).length,
  };
  const counted = Object.fromEntries(
    Object.keys(expected).map((k) => [k, kinds.filter((x) => x === k).length]),
  );
  return [
    ...(JSON.stringify(counted) === JSON.stringify(expected)
      ? []
      : [
          `functions found by kind ${JSON.stringify(counted)}, expected ${JSON.stringify(expected)}`,
        ]),
    ...unscopedServiceStatements(resources).map((v) => `unscoped service principal: ${v}`),
    ...eventBridgeQueueActions(resources).map((v) => `EventBridge beyond SendMessage: ${v}`),
    ...wildcardResources(resources).map((v) => `Resource "*": ${v}`),
    ...uncalledActions(resources, kindByName(runners)).map((v) => `not called: ${v}`),
    ...unencryptedOrUnbounded(resources, keyed).map((v) => `at rest: ${v}`),
  ];
}

describe('Invariants over every construct combination', () => {
  it('holds on 200 generated stacks: scoped service principals, no "*" but where AWS has no resource, no action the runtime does not call, everything encrypted with retention', () => {
    fc.assert(
      fc.property(stackShape, (shape) => {
        expect(violations(shape)).toStrictEqual([]);
      }),
      { numRuns: 200, seed: 20261203 },
    );
  }, 300_000);

  it('finds the violation when a statement lets a service principal in without a condition', () => {
    const { stack } = build({
      key: 'own',
      importedBoxTable: false,
      additionalTables: 0,
      archive: false,
      alarms: true,
      consumers: [{ publishTo: 'none', importedTable: false, ownTopic: false }],
      runners: [],
    });
    const template = Template.fromStack(stack).toJSON();
    const resources = template.Resources as Resources;
    const statement = Object.values(resources)
      .filter((r) => r.Type === 'AWS::SQS::QueuePolicy')
      .flatMap(
        (r) =>
          (
            (r.Properties?.PolicyDocument ?? { Statement: [] }) as {
              Statement: Array<Record<string, unknown>>;
            }
          ).Statement,
      )
      .find((s) => JSON.stringify(s.Principal).includes('events'));
    expect(unscopedServiceStatements(resources)).toStrictEqual([]);

    delete statement?.Condition;

    expect(unscopedServiceStatements(resources)).toHaveLength(1);
  });

  it('warns that the alarm topic is unencrypted without a key', () => {
    const stack = testStack();

    new EventBox(stack, 'Box');

    Annotations.fromStack(stack).hasWarning(
      '/Test/Box',
      Match.stringLikeRegexp('alarm topic is not encrypted.*Pass encryptionKey'),
    );
  });
});
