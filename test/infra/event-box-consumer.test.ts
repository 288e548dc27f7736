import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import { describe, expect, it } from 'vitest';
import { EventBox } from '../../infra/constructs/event-box.js';
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

  it('redrives to the dead-letter queue after 20 deliveries, lets an event wait an hour "not yet", with six times the function timeout as visibility', () => {
    const { template } = consumer();

    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 180,
      RedrivePolicy: {
        deadLetterTargetArn: getAtt('ScoresDeadLetterQueue', 'Arn'),
        maxReceiveCount: 20,
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EVENTBOX_NOT_YET_MAX_WAIT_SECONDS: '3600',
          EVENTBOX_MAX_RECEIVE_COUNT: '20',
          EVENTBOX_QUEUE_URL: { Ref: Match.stringLikeRegexp('^ScoresQueue') },
        }),
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
          EVENTBOX_TABLE_NAME: { Ref: Match.stringLikeRegexp('^ScoresTable') },
          EVENTBOX_CONSUMER_NAME: 'user-score',
          EVENTBOX_NOT_YET_MAX_ATTEMPTS: '4',
          EVENTBOX_DEAD_LETTER_QUEUE_URL: { Ref: Match.stringLikeRegexp('^ScoresDeadLetterQueue') },
        }),
      },
    });
  });

  it('grants the function its table, its queue (with visibility changes and sends of a waiting message) and its dead-letter queue, nothing else', () => {
    const { template } = consumer();

    const policies = template.findResources('AWS::IAM::Policy');
    expect(Object.keys(policies)).toHaveLength(1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ScoresRole') }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: getAtt('ScoresLogs', 'Arn'),
          },
          {
            Action: [
              'dynamodb:GetItem',
              'dynamodb:BatchGetItem',
              'dynamodb:PutItem',
              'dynamodb:UpdateItem',
              'dynamodb:DeleteItem',
              'dynamodb:ConditionCheckItem',
            ],
            Effect: 'Allow',
            Resource: getAtt('ScoresTable', 'Arn'),
          },
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: getAtt('ScoresDeadLetterQueue', 'Arn'),
          },
          {
            Action: [
              'sqs:ReceiveMessage',
              'sqs:DeleteMessage',
              'sqs:GetQueueAttributes',
              'sqs:ChangeMessageVisibility',
              'sqs:SendMessage',
            ],
            Effect: 'Allow',
            Resource: getAtt('ScoresQueue', 'Arn'),
          },
        ],
      },
    });
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
      'a "not yet" wait as long as the inbox remembers',
      { notYetMaxWait: Duration.days(7), inboxTtl: Duration.days(7) },
      'notYetMaxWait of consumer user-score is 604800 s, not below its inboxTtl (604800 s)',
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

  describe('Prop: publishTo', () => {
    type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
    const streamMappings = (template: Template) =>
      Object.values(template.toJSON().Resources as Resources).filter(
        (r) =>
          r.Type === 'AWS::Lambda::EventSourceMapping' &&
          JSON.stringify(r.Properties.EventSourceArn).includes('StreamArn'),
      );
    const relayPolicy = (template: Template, prefix: string) =>
      Object.entries(template.toJSON().Resources as Resources).find(
        ([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith(prefix),
      )?.[1].Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };

    it('with an EventBox, gives the table a NEW_AND_OLD_IMAGES stream that the box relay reads with the same settings', () => {
      // GIVEN
      const stack = testStack();
      const box = new EventBox(stack, 'Box');

      // WHEN
      new EventBoxConsumer(stack, 'Scores', {
        consumerName: 'user-score',
        eventBus: box.eventBus,
        eventPattern: { source: ['orders'] },
        entry,
        publishTo: box,
      });

      // THEN
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        KeySchema: Match.anyValue(),
      });
      const mappings = streamMappings(template);
      expect(mappings.map((m) => JSON.stringify(m.Properties.EventSourceArn))).toStrictEqual([
        expect.stringContaining('BoxTable'),
        expect.stringContaining('ScoresTable'),
      ]);
      const [boxMapping, consumerMapping] = mappings.map(({ Properties }) => {
        const { EventSourceArn, ...settings } = Properties;
        return settings;
      });
      expect(consumerMapping).toStrictEqual(boxMapping);
      const readsStreams = relayPolicy(template, 'BoxRelayRoleDefaultPolicy')
        .Statement.filter((st) => JSON.stringify(st.Action).includes('dynamodb:GetRecords'))
        .map((st) => JSON.stringify(st.Resource));
      expect(readsStreams).toStrictEqual([
        expect.stringContaining('BoxTable'),
        expect.stringContaining('ScoresTable'),
      ]);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ EVENTBOX_OUTBOX_RELAYED: 'true' }) },
      });
    });

    it('with a bus, gives the consumer its own relay to that bus: PutEvents there, its stream, its dead-letter queue, nothing else', () => {
      const stack = testStack();
      const bus = new events.EventBus(stack, 'Bus');
      const elsewhere = new events.EventBus(stack, 'Elsewhere');
      new EventBoxConsumer(stack, 'Scores', {
        consumerName: 'user-score',
        eventBus: bus,
        eventPattern: { source: ['orders'] },
        entry,
        publishTo: elsewhere,
        relay: { batchSize: 100 },
      });

      const own = Template.fromStack(stack);
      own.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: getAtt('ScoresTable', 'StreamArn'),
        BatchSize: 100,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        FilterCriteria: {
          Filters: [{ Pattern: Match.stringLikeRegexp('"_eventbox":\\{"S":\\["outbox"\\]') }],
        },
      });
      own.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            EVENTBOX_EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('^Elsewhere') },
            POWERTOOLS_SERVICE_NAME: 'eventbox-relay-user-score',
          }),
        },
      });
      const statements = relayPolicy(own, 'ScoresRelayRoleDefaultPolicy').Statement;
      expect(statements.map((st) => st.Action)).toStrictEqual([
        ['logs:CreateLogStream', 'logs:PutLogEvents'],
        'events:PutEvents',
        'sqs:SendMessage',
        'dynamodb:ListStreams',
        expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:GetShardIterator']),
      ]);
      expect(JSON.stringify(statements[0]?.Resource)).toContain('ScoresRelayLogs');
      expect(JSON.stringify(statements[1]?.Resource)).toContain('Elsewhere');
      expect(JSON.stringify(statements[2]?.Resource)).toContain('ScoresRelayDeadLetterQueue');
      expect(JSON.stringify(statements[4]?.Resource)).toContain('ScoresTable');
      own.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ EVENTBOX_OUTBOX_RELAYED: 'true' }) },
      });
    });

    it('without it, gives the table no stream and tells the handler that publishing is refused', () => {
      const { template } = consumer();

      template.hasResourceProperties('AWS::DynamoDB::Table', {
        StreamSpecification: Match.absent(),
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ EVENTBOX_OUTBOX_RELAYED: 'false' }) },
      });
    });

    it.each([
      [
        'relay props without a bus to publish to',
        { relay: { batchSize: 10 } },
        'relay props need publishTo to be a bus',
      ],
    ])('rejects %s', (_, overrides, message) => {
      expect(() => consumer(overrides)).toThrow(message);
    });

    it('rejects an existing table whose stream has no new images', () => {
      const stack = testStack();
      const bus = new events.EventBus(stack, 'Bus');
      const table = new dynamodb.Table(stack, 'KeysOnly', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        stream: dynamodb.StreamViewType.KEYS_ONLY,
      });

      expect(
        () =>
          new EventBoxConsumer(stack, 'Scores', {
            consumerName: 'user-score',
            eventBus: bus,
            eventPattern: { source: ['orders'] },
            entry,
            existingTable: table,
            publishTo: bus,
          }),
      ).toThrow(
        'has a stream of view type KEYS_ONLY; the relay needs NEW_IMAGE or NEW_AND_OLD_IMAGES, since it filters on the new image',
      );
    });
  });

  describe('Prop: inboxTtl', () => {
    const withBox = (props: Partial<EventBoxConsumerProps> = {}, boxProps = {}) => {
      const stack = testStack();
      const box = new EventBox(stack, 'Box', boxProps);
      new EventBoxConsumer(stack, 'Scores', {
        consumerName: 'user-score',
        eventBus: box.eventBus,
        eventPattern: { source: ['orders'] },
        entry,
        ...props,
      });
      return Template.fromStack(stack);
    };
    const inboxTtl = (template: Template) =>
      Object.values(template.findResources('AWS::Lambda::Function'))
        .map(
          (f) =>
            (f as { Properties: { Environment?: { Variables?: Record<string, string> } } })
              .Properties.Environment?.Variables?.EVENTBOX_INBOX_TTL_SECONDS,
        )
        .find((v) => v !== undefined);

    it('covers the box archive by default, and only the outbox replay without one', () => {
      expect(inboxTtl(withBox())).toBe(String(30 * 86_400));
      expect(inboxTtl(withBox({}, { archiveRetention: false }))).toBe(String(7 * 86_400));
      expect(inboxTtl(consumer().template)).toBe(String(7 * 86_400));
    });

    it('covers the archive of a box in another stack of the app', () => {
      const app = new App();
      const box = new EventBox(new Stack(app, 'Orders'), 'Box');
      const scores = new Stack(app, 'Scores');
      new EventBoxConsumer(scores, 'Scores', {
        consumerName: 'user-score',
        eventBus: box.eventBus,
        eventPattern: { source: ['orders'] },
        entry,
      });

      expect(inboxTtl(Template.fromStack(scores))).toBe(String(30 * 86_400));
    });

    it('refuses an inbox TTL shorter than a redelivery path, saying what to raise', () => {
      expect(() => withBox({ inboxTtl: Duration.days(7) })).toThrow(
        "inboxTtl of consumer user-score is 7 days but an archive replay (the box's archive retention) redelivers events up to 30 days old, which would then apply twice; raise inboxTtl to at least 30 days or shorten the archiveRetention",
      );
      expect(() => consumer({ inboxTtl: Duration.days(1) })).toThrow(
        'but an outbox replay redelivers events up to 7 days old',
      );
    });
  });

  describe('Prop: bundling', () => {
    it("bundles the handler with the given esbuild options over Eventbox's", () => {
      // Prepare: an app that really bundles, into a folder of its own.
      const outdir = mkdtempSync(join(tmpdir(), 'eventbox-bundling-'));
      try {
        const app = new App({ outdir });
        const stack = new Stack(app, 'Bundled');
        new EventBoxConsumer(stack, 'Scores', {
          consumerName: 'user-score',
          eventBus: new events.EventBus(stack, 'Bus'),
          eventPattern: { source: ['orders'] },
          entry,
          bundling: { footer: '/* footer from props */', sourceMap: false },
        });

        // Act
        app.synth();

        // Assess: the footer is there, and Eventbox's banner with it.
        const handlerDir = readdirSync(outdir)
          .filter((name) => name.startsWith('asset.'))
          .map((name) => join(outdir, name))
          .find((dir) => {
            const file = join(dir, 'index.mjs');
            return existsSync(file) && readFileSync(file, 'utf8').includes('footer from props');
          });
        expect(handlerDir).toBeDefined();
        const code = readFileSync(join(handlerDir ?? '', 'index.mjs'), 'utf8');
        expect(code).toContain('__eventboxCreateRequire');
        expect(existsSync(join(handlerDir ?? '', 'index.mjs.map'))).toBe(false);
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    });
  });
});
