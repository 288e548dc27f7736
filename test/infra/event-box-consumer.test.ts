import { fileURLToPath } from 'node:url';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { describe, expect, it } from 'vitest';
import {
  EventBoxConsumer,
  type EventBoxConsumerProps,
} from '../../infra/constructs/event-box-consumer.js';
import { testStack } from '../helpers/cdk.js';

const entry = fileURLToPath(
  new URL('../../functions/example/user-score/index.ts', import.meta.url),
);

function consumer(overrides: Partial<EventBoxConsumerProps> = {}) {
  const stack = testStack();
  const eventBus = new events.EventBus(stack, 'Bus');
  const construct = new EventBoxConsumer(stack, 'Scores', {
    consumerName: 'user-score',
    eventBus,
    eventPattern: { source: ['orders'], detailType: ['OrderPaid'] },
    entry,
    ...overrides,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

const getAtt = (prefix: string, attribute: string) => ({
  'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}`), attribute],
});

describe('Construct: EventBoxConsumer', () => {
  it('routes the pattern from the bus to a queue', () => {
    const { template } = consumer();

    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: Match.stringLikeRegexp('^Bus') },
      EventPattern: { source: ['orders'], 'detail-type': ['OrderPaid'] },
      Targets: [
        Match.objectLike({
          Arn: getAtt('ScoresQueue', 'Arn'),
          DeadLetterConfig: { Arn: getAtt('ScoresDeadLetterQueue', 'Arn') },
        }),
      ],
    });
  });

  it('redrives to the dead-letter queue after more deliveries than "not yet" allows, with six times the function timeout as visibility', () => {
    const { template } = consumer();

    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 180,
      RedrivePolicy: {
        deadLetterTargetArn: getAtt('ScoresDeadLetterQueue', 'Arn'),
        maxReceiveCount: 15,
      },
    });
  });

  it('runs the handler from the queue with batch item failures, configured through its environment', () => {
    const { template } = consumer({ notYetMaxAttempts: 4 });

    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt('ScoresQueue', 'Arn'),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          TABLE_NAME: { Ref: Match.stringLikeRegexp('^ScoresTable') },
          CONSUMER_NAME: 'user-score',
          NOT_YET_MAX_ATTEMPTS: '4',
          DEAD_LETTER_QUEUE_URL: { Ref: Match.stringLikeRegexp('^ScoresDeadLetterQueue') },
        }),
      },
    });
  });

  it('grants the function its table, its queue (with visibility changes) and its dead-letter queue, nothing else', () => {
    const { template } = consumer();

    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (
          p as {
            Properties: {
              PolicyDocument: {
                Statement: Array<{ Action: string | string[]; Resource: unknown }>;
              };
            };
          }
        ).Properties.PolicyDocument.Statement,
    );
    const actions = new Set(
      statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])),
    );
    expect(actions).toContain('sqs:ChangeMessageVisibility');
    expect(actions).toContain('dynamodb:ConditionCheckItem');
    expect([...actions].every((a) => a.startsWith('dynamodb:') || a.startsWith('sqs:'))).toBe(true);
    expect(JSON.stringify(statements)).not.toContain('"*"');
  });

  it('alarms on dead-letter depth, errors and both kinds of retries', () => {
    const { template } = consumer();

    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'NotYetRetries',
      Namespace: 'Eventbox',
      Threshold: 100,
      Dimensions: [{ Name: 'service', Value: 'user-score' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ConflictRetries',
      Namespace: 'Eventbox',
    });
  });

  it.each([
    [
      'a consumer name with "#"',
      { consumerName: 'user#score' },
      'consumerName must be 1 to 64 letters',
    ],
    [
      'a receive count not above the "not yet" attempts',
      { notYetMaxAttempts: 10, maxReceiveCount: 10 },
      'maxReceiveCount must be an integer from 11 to 1000; got 10',
    ],
    [
      'a batch over 10 without a batching window',
      { batchSize: 20 },
      'batchSize over 10 needs maxBatchingWindow',
    ],
    [
      'a concurrency of 1',
      { maxConcurrency: 1 },
      'maxConcurrency must be an integer from 2 to 1000; got 1',
    ],
  ])('rejects %s', (_, overrides, message) => {
    expect(() => consumer(overrides)).toThrow(message);
  });
});
