import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeArchiveCommand,
  EventBridgeClient,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';
import { mockStack, stackMocks } from '../../helpers/mocked-stack.js';

/**
 * What the emulator cannot do: EventBridge archive replay and CloudWatch figures. The SDK
 * calls the commands make are asserted; the stack they read is `mockedStack`.
 */
describe('Commands: archive replay and status', () => {
  const { cfn, lambda } = stackMocks;
  const sqs = mockClient(SQSClient);
  const cloudwatch = mockClient(CloudWatchClient);
  const events = mockClient(EventBridgeClient);

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
  });

  afterEach(() => {
    for (const mock of [cfn, lambda, sqs, cloudwatch, events]) mock.reset();
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

    // Assess
    expect(code).toBe(0);
    const status = JSON.parse(out);
    expect(status.relays).toStrictEqual([
      {
        name: 'eventbox-relay-1',
        iteratorAgeMs: { value: 4500 },
        errors: { unavailable: 'no data points' },
        deadLetters: 2,
      },
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
});
