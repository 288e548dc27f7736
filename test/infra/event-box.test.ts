import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { EventBox } from '../../infra/constructs/event-box.js';
import { testStack } from '../helpers/cdk.js';

const getAtt = (logicalIdPrefix: string, attribute: string) => ({
  'Fn::GetAtt': [Match.stringLikeRegexp(`^${logicalIdPrefix}`), attribute],
});

describe('Construct: EventBox', () => {
  it('creates a table with string keys, a NEW_AND_OLD_IMAGES stream, TTL, point-in-time recovery and the sparse outbox-by-time index', () => {
    // GIVEN
    const stack = testStack();

    // WHEN
    new EventBox(stack, 'Box');

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'outboxBucket', AttributeType: 'S' },
        { AttributeName: 'outboxTime', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'outboxByTime',
          KeySchema: [
            { AttributeName: 'outboxBucket', KeyType: 'HASH' },
            { AttributeName: 'outboxTime', KeyType: 'RANGE' },
          ],
          Projection: {
            ProjectionType: 'INCLUDE',
            NonKeyAttributes: ['eventId', 'eventType', 'aggregateType', 'aggregateId', 'tenantId'],
          },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('creates a bus with an archive for replay, 30 days by default', () => {
    const stack = testStack();

    new EventBox(stack, 'Box');

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::Archive', {
      RetentionDays: 30,
      SourceArn: getAtt('BoxBus', 'Arn'),
    });
  });

  it('runs the relay on arm64 and the current Node.js runtime, configured through its environment', () => {
    const stack = testStack();

    new EventBox(stack, 'Box', { relay: { concurrency: 8, maxEntryBytes: 262_144 } });

    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 60,
      Environment: {
        Variables: Match.objectLike({
          EVENTBOX_EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('^BoxBus') },
          EVENTBOX_DEAD_LETTER_QUEUE_URL: {
            Ref: Match.stringLikeRegexp('^BoxRelayDeadLetterQueue'),
          },
          EVENTBOX_RELAY_CONCURRENCY: '8',
          EVENTBOX_MAX_ENTRY_BYTES: '262144',
          POWERTOOLS_SERVICE_NAME: Match.stringLikeRegexp('^eventbox-relay-'),
        }),
      },
    });
  });

  it('maps the stream to the relay: outbox INSERTs only, batch item failures, bisect, bounded retries and age, on-failure queue', () => {
    const stack = testStack();

    new EventBox(stack, 'Box');

    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt('BoxTable', 'StreamArn'),
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 1000,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10_000,
      MaximumRecordAgeInSeconds: 86_400,
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: getAtt('BoxRelayDeadLetterQueue', 'Arn') } },
      FilterCriteria: {
        Filters: [
          {
            Pattern: JSON.stringify({
              eventName: ['INSERT'],
              dynamodb: { NewImage: { _eventbox: { S: ['outbox'] } } },
            }),
          },
        ],
      },
    });
  });

  it('grants the relay only this stream, this bus and its dead-letter queue', () => {
    const stack = testStack();

    new EventBox(stack, 'Box');

    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    expect(Object.keys(policies)).toHaveLength(1);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: getAtt('BoxRelayLogs', 'Arn'),
          },
          { Action: 'events:PutEvents', Effect: 'Allow', Resource: getAtt('BoxBus', 'Arn') },
          {
            Action: 'sqs:SendMessage',
            Effect: 'Allow',
            Resource: getAtt('BoxRelayDeadLetterQueue', 'Arn'),
          },
          { Action: 'dynamodb:ListStreams', Effect: 'Allow', Resource: '*' },
          {
            Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
            Effect: 'Allow',
            Resource: getAtt('BoxTable', 'StreamArn'),
          },
        ],
      },
    });
  });

  it('alarms on iterator age, relay errors and dead-letter depth, to an SNS topic', () => {
    const stack = testStack();

    new EventBox(stack, 'Box');

    const template = Template.fromStack(stack);
    const action = { AlarmActions: [{ Ref: Match.stringLikeRegexp('^BoxAlarmTopic') }] };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'IteratorAge',
      Statistic: 'Maximum',
      Threshold: 300_000,
      ...action,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 0,
      ...action,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ...action,
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('leaves out alarms and dashboard on request', () => {
    const stack = testStack();

    new EventBox(stack, 'Box', { alarms: false, dashboard: false });

    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('feeds several tables into one relay and bus', () => {
    const stack = testStack();
    const tenantB = new dynamodb.Table(stack, 'TenantB', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    });

    new EventBox(stack, 'Box', { additionalTables: [tenantB] });

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt('TenantB', 'StreamArn'),
    });
  });

  /** The names of the global secondary indexes of the table whose logical id starts so. */
  const indexesOf = (template: Template, logicalIdPrefix: string) =>
    Object.entries(template.findResources('AWS::DynamoDB::Table'))
      .filter(([id]) => id.startsWith(logicalIdPrefix))
      .flatMap(([, r]) =>
        ((r.Properties?.GlobalSecondaryIndexes ?? []) as Array<{ IndexName: string }>).map(
          (i) => i.IndexName,
        ),
      );

  it('gives every relayed table of the app the by-time index outbox replay reads, once', () => {
    // GIVEN a tenant's table without it, another with it already, and an existing table
    const stack = testStack();
    const keys = {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    };
    const tenantB = new dynamodb.Table(stack, 'TenantB', keys);
    const tenantC = new dynamodb.Table(stack, 'TenantC', keys);
    tenantC.addGlobalSecondaryIndex({
      indexName: 'outboxByTime',
      partitionKey: { name: 'outboxBucket', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'outboxTime', type: dynamodb.AttributeType.STRING },
    });
    const tenantD = new dynamodb.TableV2(stack, 'TenantD', {
      partitionKey: keys.partitionKey,
      sortKey: keys.sortKey,
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    const existing = new dynamodb.Table(stack, 'Existing', keys);

    // WHEN
    new EventBox(stack, 'Box', {
      existingTable: existing,
      additionalTables: [tenantB, tenantC, tenantD],
    });

    // THEN
    const template = Template.fromStack(stack);
    for (const id of ['TenantB', 'TenantC', 'Existing'])
      expect(indexesOf(template, id), id).toStrictEqual(['outboxByTime']);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'outboxByTime' })],
    });
  });

  it("gives a provisioned relayed table's index the table's capacity, with a warning about autoscaling", () => {
    const stack = testStack();
    const provisioned = new dynamodb.Table(stack, 'Provisioned', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
      billingMode: dynamodb.BillingMode.PROVISIONED,
      readCapacity: 50,
      writeCapacity: 200,
    });

    new EventBox(stack, 'Box', { additionalTables: [provisioned] });

    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', {
      ProvisionedThroughput: { ReadCapacityUnits: 50, WriteCapacityUnits: 200 },
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'outboxByTime',
          ProvisionedThroughput: { ReadCapacityUnits: 50, WriteCapacityUnits: 200 },
        }),
      ],
    });
    Annotations.fromStack(stack).hasWarning(
      '/Test/Provisioned',
      Match.stringLikeRegexp('is provisioned: its outboxByTime index gets the table'),
    );
  });

  it('keeps the by-time index a TableV2 has, without adding it twice', () => {
    const stack = testStack();
    const tenant = new dynamodb.TableV2(stack, 'Tenant', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
      globalSecondaryIndexes: [
        {
          indexName: 'outboxByTime',
          partitionKey: { name: 'outboxBucket', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'outboxTime', type: dynamodb.AttributeType.STRING },
        },
      ],
    });

    new EventBox(stack, 'Box', { additionalTables: [tenant] });

    const indexes = Object.values(
      Template.fromStack(stack).findResources('AWS::DynamoDB::GlobalTable'),
    )
      .flatMap((r) => (r.Properties?.GlobalSecondaryIndexes ?? []) as Array<{ IndexName: string }>)
      .map((i) => i.IndexName);
    expect(indexes).toStrictEqual(['outboxByTime']);
  });

  it('warns that an imported relayed table needs the by-time index for replay', () => {
    const stack = testStack();
    const imported = dynamodb.Table.fromTableAttributes(stack, 'Imported', {
      tableName: 'tenant-e',
      tableStreamArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/tenant-e/stream/2026',
    });

    new EventBox(stack, 'Box', { additionalTables: [imported] });

    Annotations.fromStack(stack).hasWarning(
      '/Test/Imported',
      Match.stringLikeRegexp(
        '^additionalTables\\[0\\] \\(Test/Imported\\) is imported, so its outboxByTime index cannot be added here: outbox replay refuses a table without it',
      ),
    );
  });

  it('leaves out the archive, and only the archive, when deploying to the emulator', () => {
    // GIVEN
    const onEmulator = testStack({ 'eventbox:emulator': 'true' });
    const onAws = testStack();

    // WHEN
    new EventBox(onEmulator, 'Box');
    new EventBox(onAws, 'Box');

    // THEN
    const emulated = Template.fromStack(onEmulator);
    const real = Template.fromStack(onAws);
    emulated.resourceCountIs('AWS::Events::Archive', 0);
    real.resourceCountIs('AWS::Events::Archive', 1);
    const types = (template: Template) =>
      Object.values(template.toJSON().Resources as Record<string, { Type: string }>)
        .map((r) => r.Type)
        .filter((t) => t !== 'AWS::Events::Archive')
        .sort();
    expect(types(emulated)).toStrictEqual(types(real));
  });

  it('uses an existing table and bus, without an archive unless asked', () => {
    const stack = testStack();
    const table = new dynamodb.Table(stack, 'Existing', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      stream: dynamodb.StreamViewType.NEW_IMAGE,
    });
    const bus = new events.EventBus(stack, 'ExistingBus');

    const box = new EventBox(stack, 'Box', { existingTable: table, existingEventBus: bus });

    expect(box.table).toBe(table);
    expect(box.eventBus).toBe(bus);
    Template.fromStack(stack).resourceCountIs('AWS::DynamoDB::Table', 1);
    Template.fromStack(stack).resourceCountIs('AWS::Events::Archive', 0);
  });

  it.each([
    ['grantWrite', ['PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem']],
    ['grantReadWrite', ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'ConditionCheckItem']],
  ] as const)(
    '%s grants exactly the item actions a producer uses, on the table only',
    (method, actions) => {
      // GIVEN
      const stack = testStack();
      const box = new EventBox(stack, 'Box');
      const role = new iam.Role(stack, 'Producer', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });

      // WHEN
      box[method](role);

      // THEN
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^Producer') }],
        PolicyDocument: {
          Statement: [
            {
              Action: actions.map((a) => `dynamodb:${a}`),
              Effect: 'Allow',
              Resource: getAtt('BoxTable', 'Arn'),
            },
          ],
        },
      });
    },
  );

  it('exposes metrics for the relay', () => {
    const stack = testStack();
    const box = new EventBox(stack, 'Box');

    expect(box.metricIteratorAge().metricName).toBe('IteratorAge');
    expect(box.metricEventsPublished()).toMatchObject({
      namespace: 'Eventbox',
      metricName: 'EventsPublished',
    });
    expect(box.metricDeadLetterDepth().metricName).toBe('ApproximateNumberOfMessagesVisible');
  });

  describe('validation', () => {
    const table = (stack: ReturnType<typeof testStack>, stream?: dynamodb.StreamViewType) =>
      new dynamodb.Table(stack, 'T', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        ...(stream ? { stream } : {}),
      });

    it.each([
      [
        'existingTable and tableProps together',
        (s: ReturnType<typeof testStack>) => ({
          existingTable: table(s, dynamodb.StreamViewType.NEW_IMAGE),
          tableProps: {},
        }),
        'Give either existingTable or tableProps, not both',
      ],
      [
        'a table without a stream',
        (s: ReturnType<typeof testStack>) => ({ existingTable: table(s) }),
        'has no stream',
      ],
      [
        'a new table whose stream has no new images (every record would be filtered out)',
        () => ({ tableProps: { stream: dynamodb.StreamViewType.KEYS_ONLY } }),
        'has a stream of view type KEYS_ONLY; the relay needs NEW_IMAGE or NEW_AND_OLD_IMAGES',
      ],
      [
        'an existing table with an OLD_IMAGE stream',
        (s: ReturnType<typeof testStack>) => ({
          existingTable: table(s, dynamodb.StreamViewType.OLD_IMAGE),
        }),
        'existingTable (Test/T) has a stream of view type OLD_IMAGE',
      ],
      [
        'an additional table with a KEYS_ONLY stream',
        (s: ReturnType<typeof testStack>) => ({
          additionalTables: [table(s, dynamodb.StreamViewType.KEYS_ONLY)],
        }),
        'additionalTables[0] (Test/T) has a stream of view type KEYS_ONLY',
      ],
      [
        'retry attempts under -1',
        () => ({ relay: { retryAttempts: -2 } }),
        'relay.retryAttempts must be an integer from -1 to 10000; got -2',
      ],
      [
        'a memory size of 64 MB',
        () => ({ relay: { memorySize: 64 } }),
        'relay.memorySize must be an integer from 128 to 10240; got 64',
      ],
      [
        'a batching window over 5 minutes',
        () => ({ relay: { maxBatchingWindow: Duration.seconds(301) } }),
        'relay.maxBatchingWindow (seconds) must be an integer from 0 to 300; got 301',
      ],
      [
        'a timeout over 15 minutes',
        () => ({ relay: { timeout: Duration.minutes(16) } }),
        'relay.timeout (seconds) must be an integer from 10 to 900; got 960',
      ],
      [
        'a batch size of 0',
        () => ({ relay: { batchSize: 0 } }),
        'relay.batchSize must be an integer from 1 to 10000; got 0',
      ],
      [
        'a parallelization factor of 11',
        () => ({ relay: { parallelizationFactor: 11 } }),
        'relay.parallelizationFactor must be an integer from 1 to 10; got 11',
      ],
      [
        'a record age under a minute',
        () => ({ relay: { maxRecordAge: Duration.seconds(10) } }),
        'relay.maxRecordAge (seconds) must be an integer from 60 to 604800; got 10',
      ],
      [
        'an entry limit over 1 MB',
        () => ({ relay: { maxEntryBytes: 2_000_000 } }),
        'relay.maxEntryBytes must be an integer from 262144 to 1048576',
      ],
      [
        'a concurrency of 51',
        () => ({ relay: { concurrency: 51 } }),
        'relay.concurrency must be an integer from 1 to 50; got 51',
      ],
    ])('rejects %s', (_, props, message) => {
      const stack = testStack();

      expect(() => new EventBox(stack, 'Box', props(stack))).toThrow(message);
    });
  });
});
