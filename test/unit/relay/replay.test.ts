import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { BatchGetCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutboxItem } from '../../../lib/envelope/outbox-item.js';
import {
  inReplayOrder,
  OPERATOR_PUBLISH_ATTEMPTS,
  replayOutbox,
} from '../../../lib/relay/replay.js';
import { ReplayTableError } from '../../../lib/relay/replay-table.js';
import { envelope, outboxItemOf } from '../../../lib/testing/builders.js';
import { describedTable } from '../../helpers/described-table.js';

const item = (aggregateId: string, version: number, time: string) => ({
  aggregateType: 'Order',
  aggregateId,
  aggregateVersion: version,
  [OutboxItem.timeAttribute]: `${time}#${aggregateId}-${version}`,
});

/** A table's description as DynamoDB answers it: keys `pk`/`sk` unless told, its indexes. */
const described = (
  indexes?: NonNullable<Parameters<typeof describedTable>[0]>['indexes'],
  keys?: readonly [string, string],
) => describedTable({ ...(indexes ? { indexes } : {}), ...(keys ? { keys } : {}) });

/** The outbox replay's reading of the table, with DynamoDB mocked where it must misbehave. */
describe('Function: replayOutbox', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const options = {
    client,
    tableName: 'orders',
    eventBridge: new EventBridgeClient({}),
    eventBusName: 'bus',
    since: new Date('2026-12-01T10:00:00.000Z'),
    until: new Date('2026-12-01T10:30:00.000Z'),
    dryRun: true,
  };

  beforeEach(() => {
    ddb.on(DescribeTableCommand).resolves(described());
  });

  afterEach(() => {
    ddb.reset();
    vi.useRealTimers();
  });

  it('publishes each aggregate in version order, whatever the producers\u2019 clocks said', () => {
    // o1's version 2 was stamped before its version 1 by a producer whose clock ran behind.
    const found = [
      item('o1', 2, '2026-12-01T10:00:01.000Z'),
      item('o2', 1, '2026-12-01T10:00:02.000Z'),
      item('o1', 1, '2026-12-01T10:00:03.000Z'),
      item('o1', 3, '2026-12-01T10:00:04.000Z'),
    ];

    const ordered = inReplayOrder(found);

    expect(ordered.map((i) => `${i.aggregateId}@${i.aggregateVersion}`)).toStrictEqual([
      'o1@1',
      'o2@1',
      'o1@2',
      'o1@3',
    ]);
  });

  it('reads the window up to, not including, its end', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    await replayOutbox(options);

    const query = ddb.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(query?.ExpressionAttributeValues?.[':until']).toBe('2026-12-01T10:30:00.000Z');
  });

  it('reads every shard of every hour the window touches, from the hour its start falls in', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    await replayOutbox({
      ...options,
      since: new Date('2026-12-01T10:30:00.000Z'),
      until: new Date('2026-12-01T11:10:00.000Z'),
    });

    const partitions = ddb
      .commandCalls(QueryCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':b']);
    const shards = Array.from({ length: OutboxItem.buckets }, (_, i) => i);
    expect(partitions).toStrictEqual([
      ...shards.map((i) => `2026-12-01T10#${i}`),
      ...shards.map((i) => `2026-12-01T11#${i}`),
    ]);
  });

  it('counts the items DynamoDB leaves unprocessed after every retry as not published', async () => {
    vi.useFakeTimers();
    ddb
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          { pk: 'OUTBOX#Order#o1', sk: '1' },
          { pk: 'OUTBOX#Order#o2', sk: '1' },
        ],
      })
      .resolves({ Items: [] });
    ddb.on(BatchGetCommand).resolves({
      Responses: { orders: [] },
      UnprocessedKeys: { orders: { Keys: [{ pk: 'OUTBOX#Order#o2', sk: '1' }] } },
    });

    const pending = replayOutbox(options);
    await vi.runAllTimersAsync();
    const result = await pending;

    expect(result).toMatchObject({ found: 1, unread: 1, failed: 1 });
    expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(8);
  });

  it('refuses a table without the by-time index, naming it, before reading or publishing', async () => {
    ddb.on(DescribeTableCommand).resolves(described([]));

    const refused = replayOutbox(options);

    await expect(refused).rejects.toBeInstanceOf(ReplayTableError);
    await expect(refused).rejects.toThrow(
      /table orders cannot be replayed: it has no outboxByTime index .*partition key outboxBucket, sort key outboxTime/,
    );
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
  });

  it('refuses a table whose by-time index is still being built', async () => {
    ddb
      .on(DescribeTableCommand)
      .resolves(described([{ IndexName: OutboxItem.byTimeIndex, IndexStatus: 'CREATING' }]));

    await expect(replayOutbox(options)).rejects.toThrow(
      'table orders cannot be replayed: its outboxByTime index is CREATING; replay once it is ACTIVE',
    );
  });

  it('reads the items by the table\u2019s own key names', async () => {
    ddb.on(DescribeTableCommand).resolves(described(undefined, ['id', 'rev']));
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ id: 'OUTBOX#Order#o1', rev: '1' }] })
      .resolves({ Items: [] });
    ddb.on(BatchGetCommand).resolves({ Responses: { orders: [] } });

    await replayOutbox(options);

    const request = ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.orders;
    expect(request?.Keys).toStrictEqual([{ id: 'OUTBOX#Order#o1', rev: '1' }]);
  });

  it('tries an entry 10 times, more than the relay: nobody reruns a command by itself', async () => {
    // Prepare: one event, whose PutEvents entry fails until the last attempt
    vi.useFakeTimers();
    const event = envelope({
      type: 'OrderPlaced',
      aggregate: { type: 'Order', id: 'o1', version: 1 },
      payload: {},
      time: new Date('2026-12-01T10:05:00.000Z'),
    });
    const item = outboxItemOf(event);
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ pk: item.pk, sk: item.sk }] })
      .resolves({ Items: [] });
    ddb.on(BatchGetCommand).resolves({ Responses: { orders: [item] } });
    const events = mockClient(EventBridgeClient);
    const failed = { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] };
    let calls = 0;
    events.on(PutEventsCommand).callsFake(async () => {
      calls++;
      return calls < OPERATOR_PUBLISH_ATTEMPTS
        ? failed
        : { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] };
    });

    // Act
    const pending = replayOutbox({ ...options, dryRun: false });
    await vi.runAllTimersAsync();
    const result = await pending;
    events.restore();

    // Assess
    expect(OPERATOR_PUBLISH_ATTEMPTS).toBe(10);
    expect(calls).toBe(10);
    expect(result).toMatchObject({ published: 1, failed: 0 });
  });
});
