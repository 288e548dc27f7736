import assert from 'node:assert/strict';
import type { DynamoDBRecord } from 'aws-lambda';
import { createRelayHandler } from '../../lib/relay/handler.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { outboxImage, outboxRecord, streamRecord } from '../helpers/stream-records.js';
import type { BadInputCase } from './case.js';
import { recordingClients } from './context.js';

/**
 * Feeds one bad record and a good one after it to the relay: the good one must still be
 * published, and the batch must report no failure.
 */
function relayed(
  bad: DynamoDBRecord,
  expect: 'ignored' | RegExp,
  maxEntryBytes = 1_048_576,
  reject?: string,
) {
  return async () => {
    const clients = recordingClients((entry) =>
      reject && JSON.parse(entry.Detail ?? '{}').id === bad.dynamodb?.NewImage?.eventId?.S
        ? { ErrorCode: reject, ErrorMessage: 'rejected' }
        : { EventId: 'e' },
    );
    try {
      const relay = createRelayHandler({
        eventBusName: 'bus',
        deadLetterQueueUrl: 'http://localhost/000000000000/dlq',
        eventBridgeClient: clients.eventBridge,
        sqsClient: clients.sqs,
        maxEntryBytes,
      });
      const good = outboxRecord('after', 1);
      const response = await relay({ Records: [bad, good] }, lambdaContext());
      assert.deepEqual(response, { batchItemFailures: [] });
      const published = clients.published().map((e) => JSON.parse(e.Detail ?? '{}').id);
      assert.ok(
        published.includes(good.dynamodb?.NewImage?.eventId?.S),
        'the record after it is published',
      );
      if (expect === 'ignored') assert.deepEqual(clients.deadLetters(), []);
      else {
        const [letter, ...more] = clients.deadLetters();
        assert.equal(more.length, 0);
        assert.match(letter?.reason ?? '', expect);
      }
    } finally {
      clients.restore();
    }
  };
}

const outbox = outboxImage('o-1', 1);

export const relayCases: BadInputCase[] = [
  {
    id: 'R01',
    stage: 'relay',
    input: 'stream record of an entity, not an outbox item',
    outcome: 'ignored; the stream moves on',
    check: relayed(streamRecord('INSERT', { pk: 'ORDER#1', sk: 'ORDER', version: 1 }), 'ignored'),
  },
  {
    id: 'R02',
    stage: 'relay',
    input: 'MODIFY or REMOVE of an outbox item (TTL expiry)',
    outcome: 'ignored; only INSERTs are published',
    check: relayed(streamRecord('REMOVE', undefined, { pk: outbox.pk, sk: outbox.sk }), 'ignored'),
  },
  {
    id: 'R03',
    stage: 'relay',
    input: 'outbox item whose `detail` is not JSON',
    outcome:
      'dead-lettered with the reason and the record ("detail" is not JSON); the stream moves on',
    check: relayed(
      streamRecord('INSERT', { ...outboxImage('o-2', 1), detail: '{oops' }),
      /"detail" is not JSON/,
    ),
  },
  {
    id: 'R04',
    stage: 'relay',
    input: 'outbox item whose `detail` is not a valid envelope',
    outcome: 'dead-lettered with the invalid fields',
    check: relayed(
      streamRecord('INSERT', { ...outboxImage('o-3', 1), detail: JSON.stringify({ id: 'nope' }) }),
      /Invalid event/,
    ),
  },
  {
    id: 'R05',
    stage: 'relay',
    input: 'outbox item over the bus entry limit',
    outcome: 'dead-lettered with its size and the limit (keys only when too large for SQS)',
    check: relayed(
      streamRecord('INSERT', outboxImage('o-4', 1, { blob: 'x'.repeat(300 * 1024) })),
      /the limit is 262144/,
      262_144,
    ),
  },
  {
    id: 'R06',
    stage: 'relay',
    input: 'outbox INSERT without a new image (stream view KEYS_ONLY)',
    outcome: 'dead-lettered: the stream view type must include new images',
    check: relayed(
      streamRecord('INSERT', undefined, { pk: outbox.pk, sk: outbox.sk }),
      /stream view type must be NEW_IMAGE or NEW_AND_OLD_IMAGES/,
    ),
  },
  {
    id: 'R07',
    stage: 'relay',
    input: 'entry EventBridge rejects as invalid (`MalformedDetail`)',
    outcome: 'dead-lettered with the error code; the rest of the batch is published',
    check: relayed(
      streamRecord('INSERT', outboxImage('o-5', 1)),
      /EventBridge rejected the entry: MalformedDetail/,
      1_048_576,
      'MalformedDetail',
    ),
  },
];
