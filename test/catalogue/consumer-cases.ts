import assert from 'node:assert/strict';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  type EventEnvelope,
  InboxEngine,
  type InboxHandler,
  type InboxOptions,
  withInbox,
} from '../../lib/consumer/index.js';
import { bridgeEvent, envelope, sqsEventOf, sqsMessage } from '../helpers/inbox.js';
import type { BadInputCase } from './case.js';
import type { CatalogueContext } from './context.js';
import { recordingClients } from './context.js';

const paid = envelope({
  type: 'OrderPaid',
  aggregate: { type: 'Order', id: 'o-1', version: 2 },
  payload: { amount: 5 },
  tenantId: 'tenant-a',
});

function sqsEventWithBody(body: string, receiveCount = 1) {
  return sqsEventOf([{ ...sqsMessage(paid, receiveCount), body }]);
}

/**
 * Delivers one SQS message to a consumer and expects it dead-lettered with `reason` and
 * acknowledged (no batch item failure), without the handler running.
 */
function deadLettered(
  body: string,
  reason: RegExp,
  options: Partial<InboxOptions> = {},
  receiveCount = 1,
  handler?: InboxHandler,
) {
  return async (context: CatalogueContext) => {
    const clients = recordingClients();
    try {
      let ran = false;
      const consumer = withInbox(
        handler ??
          (async () => {
            ran = true;
          }),
        {
          consumerName: 'catalogue',
          tableName: context.tableName,
          client: context.client,
          sqsClient: clients.sqs,
          deadLetterQueueUrl: 'http://localhost/000000000000/consumer-dlq',
          ...options,
        } as InboxOptions,
      );
      const response = await consumer(sqsEventWithBody(body, receiveCount));
      assert.deepEqual(response, { batchItemFailures: [] }, 'the message is acknowledged');
      assert.equal(ran, false, 'the handler must not run');
      const [letter, ...more] = clients.deadLetters();
      assert.equal(more.length, 0);
      assert.match(letter?.reason ?? '', reason);
    } finally {
      clients.restore();
    }
  };
}

const engine = (context: CatalogueContext) =>
  new InboxEngine({
    consumerName: 'catalogue-sync',
    tableName: context.tableName,
    client: context.client,
  });
const syncUser: InboxHandler = async (event, { tx }) => {
  tx.synchronize(
    {
      pk: `USER#${event.aggregate.id}`,
      sk: 'USER',
      name: (event.payload as { name: string }).name,
    },
    { version: event.aggregate.version },
  );
};
const userAt = (id: string, version: number, name: string): EventEnvelope =>
  envelope({ type: 'UserUpdated', aggregate: { type: 'User', id, version }, payload: { name } });
const storedUser = async (context: CatalogueContext, id: string) =>
  (
    await engine(context).client.send(
      new GetCommand({
        TableName: context.tableName,
        Key: { pk: `USER#${id}`, sk: 'USER' },
        ConsistentRead: true,
      }),
    )
  ).Item;

export const consumerCases: BadInputCase[] = [
  {
    id: 'C01',
    stage: 'consumer',
    input: 'queue message that is not JSON',
    outcome: 'dead-lettered with the reason and the original body; acknowledged',
    check: deadLettered('hello', /the message body is not JSON/),
  },
  {
    id: 'C02',
    stage: 'consumer',
    input: 'queue message that is not an EventBridge event',
    outcome: 'dead-lettered (not an EventBridge event)',
    check: deadLettered(JSON.stringify({ orderId: 'o-1' }), /not an EventBridge event/),
  },
  {
    id: 'C03',
    stage: 'consumer',
    input: 'envelope without an id',
    outcome: 'dead-lettered (the detail is not a valid event envelope: id)',
    check: deadLettered(
      JSON.stringify({ ...bridgeEvent(paid), detail: { ...paid, id: undefined } }),
      /not a valid event envelope: id/,
    ),
  },
  {
    id: 'C04',
    stage: 'consumer',
    input: 'negative aggregate version in the envelope',
    outcome: 'dead-lettered (aggregate.version: must be at least 1)',
    check: deadLettered(
      JSON.stringify(bridgeEvent({ ...paid, aggregate: { ...paid.aggregate, version: -1 } })),
      /aggregate.version: must be at least 1/,
    ),
  },
  {
    id: 'C05',
    stage: 'consumer',
    input: '`detail-type` that differs from the envelope type',
    outcome: 'dead-lettered (the EventBridge event does not match its envelope)',
    check: deadLettered(
      JSON.stringify({ ...bridgeEvent(paid), 'detail-type': 'OrderRefunded' }),
      /does not match its envelope/,
    ),
  },
  {
    id: 'C06',
    stage: 'consumer',
    input: 'unknown event type (consumer with schemas)',
    outcome: 'dead-lettered (unknown event type)',
    check: deadLettered(JSON.stringify(bridgeEvent(paid)), /unknown event type "OrderPaid"/, {
      schemas: { OrderCanceled: z.object({}) },
    }),
  },
  {
    id: 'C07',
    stage: 'consumer',
    input: 'payload that fails its schema',
    outcome: 'dead-lettered naming the failing field',
    check: deadLettered(
      JSON.stringify(bridgeEvent(paid)),
      /the payload of OrderPaid fails its schema: payload.amount/,
      {
        schemas: { OrderPaid: z.object({ amount: z.string() }) },
      },
    ),
  },
  {
    id: 'C08',
    stage: 'consumer',
    input: 'event of a tenant the consumer does not serve',
    outcome: 'dead-lettered (wrong tenant)',
    check: deadLettered(JSON.stringify(bridgeEvent(paid)), /wrong tenant: "tenant-a"/, {
      tenantIds: ['tenant-b'],
    }),
  },
  {
    id: 'C09',
    stage: 'consumer',
    input: 'event whose causal predecessor never arrives',
    outcome:
      '"not yet" retries with backoff, then dead-lettered with the reason after `notYet.maxWaitSeconds` (or `notYet.maxAttempts`, if set)',
    check: deadLettered(
      JSON.stringify(bridgeEvent(paid)),
      /Not yet: the order is not known \(still after 1 attempt over \d+ s: notYet\.maxAttempts 1\)/,
      { notYet: { maxAttempts: 1 } },
      1,
      async (_e, { notYet }) => notYet('the order is not known'),
    ),
  },
  {
    id: 'C10',
    stage: 'consumer',
    input: 'snapshot with a version from the future (version 99 over version 1)',
    outcome: 'applied: the newest snapshot wins, gaps and all',
    check: async (context) => {
      await engine(context).process(sqsMessage(userAt('future', 1, 'first')), syncUser);
      const outcome = await engine(context).process(
        sqsMessage(userAt('future', 99, 'future')),
        syncUser,
      );
      assert.equal(outcome.status, 'handled');
      assert.deepEqual(
        { ...(await storedUser(context, 'future')) },
        { pk: 'USER#future', sk: 'USER', name: 'future', version: 99 },
      );
    },
  },
  {
    id: 'C11',
    stage: 'consumer',
    input: 'stale snapshot (version 2 after version 3)',
    outcome: 'skipped and counted (`StaleSkipped`), the message acknowledged',
    check: async (context) => {
      await engine(context).process(sqsMessage(userAt('stale', 3, 'new')), syncUser);
      const outcome = await engine(context).process(
        sqsMessage(userAt('stale', 2, 'old')),
        syncUser,
      );
      assert.equal(outcome.status, 'handled');
      assert.equal(outcome.status === 'handled' && outcome.staleSkipped, 1);
      assert.equal((await storedUser(context, 'stale'))?.name, 'new');
    },
  },
  {
    id: 'C12',
    stage: 'consumer',
    input: 'the same event delivered twice',
    outcome: 'the second delivery is a duplicate: acknowledged, nothing applied again',
    check: async (context) => {
      const event = userAt('twice', 1, 'once');
      const first = await engine(context).process(sqsMessage(event), syncUser);
      const second = await engine(context).process(sqsMessage(event), syncUser);
      assert.deepEqual([first.status, second.status], ['handled', 'duplicate']);
    },
  },
  {
    id: 'C13',
    stage: 'consumer',
    input: 'invocation that is neither an SQS batch nor an EventBridge event',
    outcome: '`UnsupportedInvocationError` thrown',
    check: async (context) => {
      const consumer = withInbox(async () => {}, {
        consumerName: 'catalogue',
        tableName: context.tableName,
        client: context.client,
      });
      await assert.rejects(consumer({ hello: 'world' }), { name: 'UnsupportedInvocationError' });
    },
  },
];
