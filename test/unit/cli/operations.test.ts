import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeArchiveCommand,
  EventBridgeClient,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import {
  GetFunctionConfigurationCommand,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';
import { describedTable } from '../../helpers/described-table.js';
import { mockStack, stackMocks, streamArnOf } from '../../helpers/mocked-stack.js';

/** A relayed table as DynamoDB describes it: keys, a new-image stream, the by-time index. */
const described = (tableName: string) => describedTable({ streamArn: streamArnOf(tableName) });

/**
 * What the emulator cannot do: EventBridge archive replay and CloudWatch figures. The SDK
 * calls the commands make are asserted; the stack they read is `mockedStack`.
 */
describe('Commands: archive replay and status', () => {
  const { cfn, lambda } = stackMocks;
  const sqs = mockClient(SQSClient);
  const cloudwatch = mockClient(CloudWatchClient);
  const events = mockClient(EventBridgeClient);
  const ddb = mockClient(DynamoDBDocumentClient);
  const logs = mockClient(CloudWatchLogsClient);

  beforeEach(() => {
    mockStack();
    sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '1' },
    });
    events.on(DescribeArchiveCommand).resolves({
      ArchiveArn: 'arn:aws:events:us-east-1:1:archive/shop-archive',
      EventSourceArn: 'arn:aws:events:us-east-1:1:event-bus/shop-bus',
    });
    events.on(StartReplayCommand).resolves({ State: 'STARTING' });
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb
      .on(DescribeTableCommand)
      .callsFake((input: { TableName: string }) => described(input.TableName));
    logs.on(FilterLogEventsCommand).resolves({ events: [] });
  });

  afterEach(() => {
    for (const mock of [cfn, lambda, sqs, cloudwatch, events, ddb, logs]) mock.reset();
    delete process.env.EVENTBOX_STACK;
  });

  it("archive replay starts an EventBridge replay of the window onto the archive's bus, to the rules named", async () => {
    // Act
    const { code, out } = await cli(
      'archive',
      'replay',
      '--since',
      '2d',
      '--until',
      '1d',
      '--rule',
      'arn:aws:events:us-east-1:1:rule/shop-bus/scores',
      '--json',
    );

    // Assess
    expect(code).toBe(0);
    const [call] = events.commandCalls(StartReplayCommand);
    const input = call?.args[0].input;
    expect(input).toMatchObject({
      EventSourceArn: 'arn:aws:events:us-east-1:1:archive/shop-archive',
      Destination: {
        Arn: 'arn:aws:events:us-east-1:1:event-bus/shop-bus',
        FilterArns: ['arn:aws:events:us-east-1:1:rule/shop-bus/scores'],
      },
    });
    const window = [input?.EventStartTime, input?.EventEndTime] as Date[];
    expect((window[1]?.getTime() ?? 0) - (window[0]?.getTime() ?? 0)).toBe(86_400_000);
    expect(JSON.parse(out)).toMatchObject({ replayName: input?.ReplayName, state: 'STARTING' });
  });

  it.each([
    [
      ['--since', '40d', '--until', '1d'],
      "further back than the consumers' inbox remembers (30 days)",
    ],
    [['--since', '1d', '--until', '2d'], 'must be before --until'],
    [['--since', '1d', '--until', '2099-01-01T00:00:00Z'], 'is in the future'],
    [['--since', 'yesterday', '--until', '1d'], '--since must be a date and time'],
  ])('archive replay %j is refused in one line and replays nothing', async (window, reason) => {
    const { code, err } = await cli('archive', 'replay', ...window);

    expect(code).toBeGreaterThan(0);
    expect(err.split('\n')[0]).toContain(reason);
    expect(events.commandCalls(StartReplayCommand)).toHaveLength(0);
  });

  it('status reads each figure from CloudWatch and says unavailable where there are no data points', async () => {
    // Prepare: iterator age has data; every other metric has none
    cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
    cloudwatch
      .on(GetMetricStatisticsCommand, { Namespace: 'AWS/Lambda', MetricName: 'IteratorAge' })
      .resolves({ Datapoints: [{ Maximum: 1200 }, { Maximum: 4500 }] });

    // Act
    const { code, out } = await cli('status', '--json');

    // Assess: every queue holds 2 letters, which is a problem to name
    expect(code).toBe(1);
    const status = JSON.parse(out);
    expect(status.relays).toMatchObject([
      {
        name: 'eventbox-relay-1',
        iteratorAgeMs: { value: 4500 },
        errors: { unavailable: 'no data points' },
        deadLetters: 2,
      },
    ]);
    expect(status.problems).toStrictEqual([
      'eventbox-relay-1 has 2 dead letters: eventbox dlq list',
      'scores has 2 dead letters: eventbox dlq list',
    ]);
    expect(status.consumers[0]).toMatchObject({
      name: 'scores',
      queue: { visible: 2, inFlight: 1 },
      oldestMessageSeconds: { unavailable: 'no data points' },
      notYetRetries: { unavailable: 'no data points' },
    });
    const asked = cloudwatch.commandCalls(GetMetricStatisticsCommand).map((c) => c.args[0].input);
    expect(asked).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: 'IteratorAge',
          Dimensions: [{ Name: 'FunctionName', Value: 'relay-fn' }],
          Statistics: ['Maximum'],
        }),
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: 'scores' }],
        }),
        expect.objectContaining({
          Namespace: 'Eventbox',
          MetricName: 'NotYetRetries',
          Dimensions: [{ Name: 'service', Value: 'scores' }],
          Statistics: ['Sum'],
        }),
      ]),
    );
  });

  it('status as text names the missing figures', async () => {
    cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });

    const { out } = await cli('status');

    expect(out).toMatch(/eventbox-relay-1\s+unavailable \(no data points\)/);
    expect(out).toMatch(/scores\s+2\/1\s+unavailable \(no data points\)/);
  });

  describe('status of each relayed table, from the resources alone', () => {
    const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
    const statusOf = async () => {
      cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [] });
      sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
      const { code, out } = await cli('status', '--json');
      const status = JSON.parse(out) as {
        relays: Array<{ tables: Array<{ tableName: string; state: string }> }>;
        problems: string[];
      };
      return { code, tables: status.relays[0]?.tables ?? [], problems: status.problems };
    };
    /** `shop-box`'s newest outbox item, `minutes` old; `shop-tenant-b` has none. */
    const newestItem = (minutes: number) =>
      ddb
        .on(QueryCommand, { TableName: 'shop-box' })
        .resolves({ Items: [{ outboxTime: `${minutesAgo(minutes)}#e1` }] });

    it('is relaying when the relay logged after the newest outbox item, quiet with none', async () => {
      newestItem(5);
      logs.on(FilterLogEventsCommand).resolves({ events: [{ message: 'relay batch done' }] });

      const { code, tables, problems } = await statusOf();

      expect(code).toBe(0);
      expect(problems).toStrictEqual([]);
      expect(tables).toMatchObject([
        { tableName: 'shop-box', mapping: 'Enabled', state: 'relaying' },
        { tableName: 'shop-tenant-b', mapping: 'Enabled', state: 'quiet' },
      ]);
      const [asked] = logs.commandCalls(FilterLogEventsCommand);
      expect(asked?.args[0].input.startTime).toBeGreaterThan(Date.now() - 5 * 60_000 - 10_000);
    });

    it('is behind when the relay has not logged since an outbox item older than a minute', async () => {
      newestItem(5);
      // CloudWatch Logs may answer a page with no events and a token: it reads on.
      logs
        .on(FilterLogEventsCommand)
        .resolvesOnce({ events: [], nextToken: 't1' })
        .resolves({ events: [] });

      const { code, tables, problems } = await statusOf();

      expect(code).toBe(1);
      expect(tables[0]).toMatchObject({ state: 'behind', newestOutboxItemSeconds: 300 });
      expect(problems[0]).toMatch(
        /^relay eventbox-relay-1 for table shop-box has not run since the table's newest outbox item, written 300 s ago/,
      );
      expect(logs.commandCalls(FilterLogEventsCommand)).toHaveLength(2);
    });

    it('is not behind while the newest outbox item is younger than a minute', async () => {
      newestItem(0.5);

      const { tables } = await statusOf();

      expect(tables[0]).toMatchObject({ state: 'relaying' });
    });

    it('is dropping when the stream of an imported table has no new images', async () => {
      const tenant = described('shop-tenant-b').Table;
      ddb.on(DescribeTableCommand, { TableName: 'shop-tenant-b' }).resolves({
        Table: {
          ...tenant,
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'KEYS_ONLY' },
        },
      });

      const { code, tables, problems } = await statusOf();

      expect(code).toBe(1);
      expect(tables[1]).toMatchObject({ tableName: 'shop-tenant-b', state: 'dropping' });
      expect(problems).toStrictEqual([
        "relay eventbox-relay-1 for table shop-tenant-b drops every outbox item: the stream is KEYS_ONLY, and the relay's filter needs the new image; switch the stream to NEW_AND_OLD_IMAGES, then outbox replay the time it was KEYS_ONLY",
      ]);
    });

    it('is stopped when the stream mapping is disabled, whatever the metrics say', async () => {
      lambda.on(ListEventSourceMappingsCommand, { FunctionName: 'relay-fn' }).resolves({
        EventSourceMappings: [
          {
            EventSourceArn: 'arn:aws:dynamodb:eu-west-1:1:table/shop-box/stream/2026',
            State: 'Disabled',
            StateTransitionReason: 'USER_INITIATED',
          },
        ],
      });

      const { code, tables, problems } = await statusOf();

      expect(code).toBe(1);
      expect(tables).toMatchObject([{ tableName: 'shop-box', state: 'stopped' }]);
      expect(problems).toStrictEqual([
        'relay eventbox-relay-1 for table shop-box is stopped: its stream mapping is Disabled (USER_INITIATED); enable it, then outbox replay what the stream no longer holds (records older than 24 h)',
      ]);
    });

    /** The relay's mappings: shop-box's with these fields, shop-tenant-b's as deployed. */
    const mappingOfBox = (fields: Record<string, string>) =>
      lambda.on(ListEventSourceMappingsCommand, { FunctionName: 'relay-fn' }).resolves({
        EventSourceMappings: [
          { EventSourceArn: streamArnOf('shop-box'), State: 'Enabled', ...fields },
          { EventSourceArn: streamArnOf('shop-tenant-b'), State: 'Enabled' },
        ],
      });

    it('is changing, not a problem, while a deploy creates or updates the mapping', async () => {
      mappingOfBox({ State: 'Updating' });

      const { code, tables } = await statusOf();

      expect(code).toBe(0);
      expect(tables[0]).toMatchObject({ tableName: 'shop-box', state: 'changing' });
    });

    it('is failing when the mapping reports a problem with its batches', async () => {
      mappingOfBox({ LastProcessingResult: 'PROBLEM: Function call failed' });

      const { code, tables, problems } = await statusOf();

      expect(code).toBe(1);
      expect(tables[0]).toMatchObject({ state: 'failing' });
      expect(problems).toStrictEqual([
        'relay eventbox-relay-1 for table shop-box is failing: its stream mapping says "PROBLEM: Function call failed"; see the relay\'s errors and log',
      ]);
    });

    it.each([
      ['the stream was switched off and on', { LatestStreamArn: `${streamArnOf('shop-box')}-new` }],
      ['the table has no stream', { StreamSpecification: undefined, LatestStreamArn: undefined }],
    ])(
      'is stopped when the mapping reads a stream the table no longer has: %s',
      async (why, table) => {
        ddb
          .on(DescribeTableCommand, { TableName: 'shop-box' })
          .resolves({ Table: { ...described('shop-box').Table, ...table } });

        const { code, tables, problems } = await statusOf();

        expect(code).toBe(1);
        expect(tables[0]).toMatchObject({ state: 'stopped' });
        expect(problems[0]).toBe(
          `relay eventbox-relay-1 for table shop-box is stopped: its mapping reads a stream the table no longer has (${why}); deploy the stack again to map the table's stream, then outbox replay what the stream no longer holds (records older than 24 h)`,
        );
      },
    );

    it('is stopped when no mapping reads a table the stack relays (its mapping deleted)', async () => {
      lambda.on(ListEventSourceMappingsCommand, { FunctionName: 'relay-fn' }).resolves({
        EventSourceMappings: [{ EventSourceArn: streamArnOf('shop-tenant-b'), State: 'Enabled' }],
      });

      const { code, out } = await cli('status', '--json');

      expect(code).toBe(1);
      const status = JSON.parse(out) as { unrelayed: unknown[]; problems: string[] };
      expect(status.unrelayed).toMatchObject([
        { tableName: 'shop-box', mapping: 'none', state: 'stopped' },
      ]);
      expect(status.problems).toContain(
        'no relay reads table shop-box: its stream mapping is gone; deploy the stack again to create it, then outbox replay what the stream no longer holds (records older than 24 h)',
      );
    });

    it('names a relayed table without the by-time index as a problem: it cannot be replayed', async () => {
      ddb
        .on(DescribeTableCommand, { TableName: 'shop-tenant-b' })
        .resolves({ Table: { ...described('shop-tenant-b').Table, GlobalSecondaryIndexes: [] } });

      const { code, tables, problems } = await statusOf();

      expect(code).toBe(1);
      expect(tables[1]).toMatchObject({ tableName: 'shop-tenant-b', state: 'unknown' });
      expect(problems[0]).toMatch(
        /^table shop-tenant-b cannot be replayed: it has no outboxByTime index/,
      );
    });

    it("reads every page of the relay's mappings, and its own log group", async () => {
      lambda
        .on(ListEventSourceMappingsCommand, { FunctionName: 'relay-fn' })
        .resolves({
          EventSourceMappings: [{ EventSourceArn: streamArnOf('shop-box'), State: 'Enabled' }],
          NextMarker: 'page-2',
        })
        .on(ListEventSourceMappingsCommand, { FunctionName: 'relay-fn', Marker: 'page-2' })
        .resolves({
          EventSourceMappings: [{ EventSourceArn: streamArnOf('shop-tenant-b'), State: 'Enabled' }],
        });
      lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'relay-fn' }).resolves({
        Environment: { Variables: { EVENTBOX_EVENT_BUS_NAME: 'shop-bus' } },
        LoggingConfig: { LogGroup: '/shop/relay' },
      });
      newestItem(5);

      const { tables } = await statusOf();

      expect(tables.map((t) => t.tableName)).toStrictEqual(['shop-box', 'shop-tenant-b']);
      const groups = logs
        .commandCalls(FilterLogEventsCommand)
        .map((c) => c.args[0].input.logGroupName);
      expect(new Set(groups)).toStrictEqual(new Set(['/shop/relay']));
    });

    it('prints the problems in text and exits 1', async () => {
      mappingOfBox({ State: 'Disabled' });

      const { code, out } = await cli('status');

      expect(code).toBe(1);
      expect(out).toMatch(/Problems:\n {2}relay eventbox-relay-1 for table shop-box is stopped/);
      expect(out).toMatch(/eventbox-relay-1\s+shop-box\s+Disabled\s+-\s+stopped/);
    });
  });
});
