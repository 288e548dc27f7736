import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EventEnvelope } from '../../lib/envelope/envelope.js';
import { AlreadyExistsError, EventBox, VersionConflictError } from '../../lib/producer/index.js';
import { createRelayHandler } from '../../lib/relay/handler.js';
import { createTable, type TestTable } from '../helpers/aws.js';
import { createBus, createQueue, type TestBus, type TestQueue } from '../helpers/bus.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { readStream } from '../helpers/streams.js';

/** The shape Lambda gives stream records; the Streams API differs only in the date type. */
function asLambdaRecord(record: _Record, streamArn: string): DynamoDBRecord {
  return {
    ...(record as unknown as DynamoDBRecord),
    eventSourceARN: streamArn,
    dynamodb: {
      ...(record.dynamodb as unknown as DynamoDBRecord['dynamodb']),
      ApproximateCreationDateTime: Math.floor(
        (record.dynamodb?.ApproximateCreationDateTime?.getTime() ?? 0) / 1000,
      ),
    },
  };
}

describe('Relay on the emulator: table stream to bus to queue', () => {
  const endpoint = inject('eventbox').endpoint;
  let table: TestTable;
  let bus: TestBus;
  let deadLetters: TestQueue;

  beforeAll(async () => {
    [table, bus] = await Promise.all([createTable(endpoint), createBus(endpoint, 'orders')]);
    deadLetters = await createQueue(bus.sqs, 'relay-dlq');
  });

  afterAll(async () => {
    await Promise.all([table.drop(), bus.drop(), deadLetters.drop()]);
  });

  it('delivers exactly the committed events, with their envelopes intact', async () => {
    // Prepare: three orders change several times; some transactions lose a version race
    const box = new EventBox({
      tableName: table.tableName,
      source: 'orders',
      client: table.client,
    });
    const committed: EventEnvelope[] = [];
    let rejected = 0;
    for (const id of ['a', 'b', 'c']) {
      for (let version = 1; version <= 4; version++) {
        const tx = box
          .transaction()
          .put({ pk: `ORDER#${id}`, sk: 'ORDER', step: version }, { expectedVersion: version - 1 });
        tx.publish({
          type: version === 1 ? 'OrderPlaced' : 'OrderChanged',
          aggregate: { type: 'Order', id, version },
          payload: { step: version, note: 'ünïcödé ✓' },
          correlationId: `flow-${id}`,
        });
        committed.push(...(await tx.commit()).events);
        // A stale writer: its event must never reach the bus.
        const stale = box
          .transaction()
          .put({ pk: `ORDER#${id}`, sk: 'ORDER', step: -1 }, { expectedVersion: version - 1 });
        stale.publish({ type: 'Stale', aggregate: { type: 'Order', id, version }, payload: {} });
        await stale.commit().catch((error: unknown) => {
          expect(error).toBeInstanceOf(version === 1 ? AlreadyExistsError : VersionConflictError);
          rejected++;
        });
      }
    }
    const streamArn = table.streamArn ?? '';
    const records = await readStream(
      endpoint,
      streamArn,
      (all) =>
        all.filter((r) => r.dynamodb?.Keys?.pk?.S?.startsWith('OUTBOX#')).length >=
        committed.length,
    );
    const relay = createRelayHandler({
      eventBusName: bus.name,
      deadLetterQueueUrl: deadLetters.url,
      eventBridgeClient: bus.eventBridge,
      sqsClient: bus.sqs,
    });

    // Act: the whole stream, entity records included, in batches as an event source mapping would
    const failures = [];
    for (let start = 0; start < records.length; start += 7) {
      const batch = records.slice(start, start + 7).map((r) => asLambdaRecord(r, streamArn));
      failures.push(...(await relay({ Records: batch }, lambdaContext())).batchItemFailures);
    }

    // Assess
    expect(rejected).toBe(12);
    expect(failures).toStrictEqual([]);
    const messages = await bus.queue.drain((m) => m.length >= committed.length);
    const delivered = messages.map((m) => JSON.parse(m.Body ?? '{}'));
    expect(delivered.map((e) => e.detail).sort((x, y) => x.id.localeCompare(y.id))).toStrictEqual(
      JSON.parse(JSON.stringify(committed)).sort((x: EventEnvelope, y: EventEnvelope) =>
        x.id.localeCompare(y.id),
      ),
    );
    for (const event of delivered) {
      expect(event).toMatchObject({ source: 'orders', 'detail-type': event.detail.type });
    }
    expect(await bus.queue.drain(() => false, 1_500)).toStrictEqual([]);
    expect(await deadLetters.drain(() => false, 500)).toStrictEqual([]);
  });
});
