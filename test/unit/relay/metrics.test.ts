import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { createRelayHandler } from '../../../lib/relay/handler.js';
import { lambdaContext } from '../../helpers/lambda-context.js';
import {
  outboxImage,
  outboxRecord,
  streamEvent,
  streamRecord,
} from '../../helpers/stream-records.js';

/** Records every metric a Metrics instance and its single metrics receive. */
function recordedMetrics() {
  const metrics = new Metrics({ namespace: 'Eventbox', serviceName: 'relay-test' });
  const added: Array<{ name: string; value: number; dimensions?: Record<string, string> }> = [];
  vi.spyOn(metrics, 'addMetric').mockImplementation((name, _unit, value) => {
    added.push({ name, value });
    return metrics;
  });
  vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dimensions: Record<string, string> = {};
    return {
      addDimension: (key: string, value: string) => {
        dimensions[key] = value;
      },
      addMetric: (name: string, _unit: unknown, value: number) => {
        added.push({ name, value, dimensions: { ...dimensions } });
      },
    } as never;
  });
  return { metrics, added };
}

describe('Function: createRelayHandler metrics', () => {
  it('counts batch size, events published, publish time, errors by code and poison records', async () => {
    // Prepare: the second entry is throttled once, the third record is poison
    const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
    const sqs = new SQSClient({ region: 'us-east-1' });
    let calls = 0;
    mockClient(eventBridge)
      .on(PutEventsCommand)
      .callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
        calls++;
        const entries = input.Entries.map((_, i) =>
          calls === 1 && i === 1 ? { ErrorCode: 'ThrottlingException' } : { EventId: 'e' },
        );
        return {
          FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length,
          Entries: entries,
        };
      });
    mockClient(sqs)
      .on(SendMessageBatchCommand)
      .callsFake(async (input: { Entries: Array<{ Id: string }> }) => ({
        Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: '' })),
      }));
    const { metrics, added } = recordedMetrics();
    const relay = createRelayHandler({
      eventBusName: 'bus',
      deadLetterQueueUrl: 'http://localhost/000000000000/dlq',
      eventBridgeClient: eventBridge,
      sqsClient: sqs,
      metrics,
      backoff: { baseMs: 1, capMs: 1 },
    });
    const poison = streamRecord('INSERT', { ...outboxImage('p', 1), detail: 'nope' });

    // Act
    await relay(streamEvent([outboxRecord('a', 1), outboxRecord('b', 1), poison]), lambdaContext());

    // Assess
    const sum = (name: string) =>
      added.filter((m) => m.name === name).reduce((s, m) => s + m.value, 0);
    expect(sum('BatchSize')).toBe(3);
    expect(sum('EventsPublished')).toBe(2);
    expect(sum('PoisonRecords')).toBe(1);
    expect(added.filter((m) => m.name === 'PublishTime')).toHaveLength(2);
    expect(added.filter((m) => m.name === 'PublishErrors')).toStrictEqual([
      { name: 'PublishErrors', value: 1, dimensions: { ErrorCode: 'ThrottlingException' } },
    ]);
  });
});
