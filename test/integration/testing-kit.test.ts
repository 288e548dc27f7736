import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InboxEngine } from '../../lib/consumer/engine.js';
import { envelope } from '../../lib/testing/builders.js';
import { drainQueue, NotQuietError, peekQueue, waitUntilQuiet } from '../../lib/testing/queues.js';
import { readDeadLetters, readInbox } from '../../lib/testing/state.js';
import { clientConfig, createTable, type TestTable } from '../helpers/aws.js';
import { createQueue, type TestQueue } from '../helpers/bus.js';
import { sqsMessage } from '../helpers/inbox.js';

/** The testing kit's waits and readers, against the emulator. */
describe('Testing kit on the emulator', () => {
  const sqs = new SQSClient(clientConfig());
  let queue: TestQueue;
  let table: TestTable;

  beforeAll(async () => {
    queue = await createQueue(sqs, 'kit');
    table = await createTable(clientConfig().endpoint, 'kit');
  });

  afterAll(async () => {
    await queue.drop();
    await table.drop();
  });

  it('waitUntilQuiet names the queue that is still busy, then returns once it is drained', async () => {
    // Prepare
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: 'busy' }));

    // Act
    const busy = await waitUntilQuiet(sqs, {
      queueUrls: [queue.url],
      timeoutMs: 1_000,
      pollMs: 200,
    }).catch((error: unknown) => error);
    const peeked = await peekQueue(sqs, queue.url);
    const drained = await drainQueue(sqs, queue.url);

    // Assess
    expect(busy).toBeInstanceOf(NotQuietError);
    expect((busy as NotQuietError).depths).toStrictEqual({ [queue.url]: 1 });
    expect(peeked.map((m) => m.Body)).toStrictEqual(['busy']);
    expect(drained.map((m) => m.Body)).toStrictEqual(['busy']);
    await expect(
      waitUntilQuiet(sqs, { queueUrls: [queue.url], quietMs: 300, pollMs: 100 }),
    ).resolves.toBeUndefined();
  });

  it('readDeadLetters tells relay, consumer, Lambda on-failure and unknown letters apart, and leaves them', async () => {
    // Prepare
    const bodies = [
      { kind: 'eventbox.relay.dead-letter', reason: 'poison', sequenceNumber: '1', record: {} },
      { kind: 'eventbox.consumer.dead-letter', consumer: 'c', reason: 'schema', body: '{}' },
      { requestContext: { condition: 'RetryAttemptsExhausted' } },
      'plain text',
    ].map((b) => (typeof b === 'string' ? b : JSON.stringify(b)));
    for (const body of bodies)
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));

    // Act
    const letters = await readDeadLetters(sqs, queue.url);

    // Assess
    expect(letters.map((l) => [l.kind, l.reason]).sort()).toStrictEqual(
      [
        ['eventbox.consumer.dead-letter', 'schema'],
        ['eventbox.relay.dead-letter', 'poison'],
        ['lambda.on-failure', 'event source mapping gave up: RetryAttemptsExhausted'],
        ['unknown', 'not JSON'],
      ].sort(),
    );
    expect(await drainQueue(sqs, queue.url)).toHaveLength(4);
  });

  it('readInbox lists what a consumer applied, with its aggregate and commit time', async () => {
    // Prepare
    const engine = new InboxEngine({
      consumerName: 'kit',
      tableName: table.tableName,
      client: table.client,
    });
    const event = envelope({
      type: 'Touched',
      aggregate: { type: 'Thing', id: 't1', version: 3 },
      payload: null,
    });

    // Act
    await engine.process(sqsMessage(event), () => {});
    const applied = await readInbox(table.client, table.tableName, 'kit');

    // Assess
    expect([...applied.values()]).toStrictEqual([
      {
        eventId: event.id,
        eventType: 'Touched',
        aggregate: { type: 'Thing', id: 't1', version: 3 },
        processedAt: expect.any(String),
        status: 'COMPLETED',
      },
    ]);
  });
});
