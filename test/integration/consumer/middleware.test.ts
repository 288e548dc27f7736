import { GetCommand } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type EventEnvelope, type InboxContext, inbox } from '../../../lib/consumer/index.js';
import { clientConfig, createTable, type TestTable } from '../../helpers/aws.js';
import { bridgeEvent, envelope, sqsEventOf, sqsMessage } from '../../helpers/inbox.js';
import { lambdaContext } from '../../helpers/lambda-context.js';

/** One SQS delivery per event, message ids derived from the event ids. */
function sqsEventOfEvents(events: EventEnvelope[], receiveCount = 1) {
  return sqsEventOf(
    events.map((event, i) => sqsMessage(event, receiveCount, { messageId: `m-${event.id}-${i}` })),
  );
}

describe('Middleware: inbox (middy) on the emulator', () => {
  let table: TestTable;
  let handler: (event: unknown, context: Context) => Promise<unknown>;
  let runs = 0;

  beforeAll(async () => {
    table = await createTable(inject('eventbox').endpoint, 'middy');
    handler = middy(
      async (
        event: EventEnvelope<{ name: string }>,
        context: Context & { inbox: InboxContext },
      ) => {
        runs++;
        if (event.payload.name === 'later') context.inbox.notYet('waiting for something');
        context.inbox.tx.synchronize(
          { pk: `USER#${event.aggregate.id}`, sk: 'USER', name: event.payload.name },
          { version: event.aggregate.version },
        );
      },
    ).use(
      inbox({
        consumerName: 'middy',
        tableName: table.tableName,
        client: table.client,
        sqsClientConfig: clientConfig(),
        failureDestination: true,
      }),
    ) as never;
  });

  afterAll(async () => {
    await table.drop();
  });

  const user = async (id: string) =>
    (
      await table.document.send(
        new GetCommand({
          TableName: table.tableName,
          Key: { pk: `USER#${id}`, sk: 'USER' },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('applies an SQS message once and answers with no failures', async () => {
    const event = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 'm1', version: 4 },
      payload: { name: 'Mia' },
    });
    runs = 0;

    const first = await handler(sqsEventOfEvents([event]), lambdaContext());
    const duplicate = await handler(sqsEventOfEvents([event], 2), lambdaContext());

    expect(first).toStrictEqual({ batchItemFailures: [] });
    expect(duplicate).toStrictEqual({ batchItemFailures: [] });
    expect(runs).toBe(1);
    expect(await user('m1')).toMatchObject({ name: 'Mia', version: 4 });
  });

  it('applies an EventBridge event delivered directly', async () => {
    const event = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 'm2', version: 1 },
      payload: { name: 'Max' },
    });

    await handler(bridgeEvent(event), lambdaContext());

    expect(await user('m2')).toMatchObject({ name: 'Max', version: 1 });
  });

  it('reports a "not yet" SQS message as a batch item failure and writes nothing', async () => {
    const event = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 'm3', version: 1 },
      payload: { name: 'later' },
    });

    const response = await handler(sqsEventOfEvents([event]), lambdaContext());

    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: `m-${event.id}-0` }] });
    expect(await user('m3')).toBeUndefined();
  });

  it('throws for a "not yet" EventBridge event so that Lambda retries it', async () => {
    const event = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 'm4', version: 1 },
      payload: { name: 'later' },
    });

    await expect(handler(bridgeEvent(event), lambdaContext())).rejects.toThrow(
      /was not handled; retry: waiting for something/,
    );
  });

  it('defect 5: refuses an EventBridge event delivered directly when a failure would have nowhere to go', async () => {
    const bare = middy(async () => {
      runs++;
    }).use(
      inbox({
        consumerName: 'middy-bare',
        tableName: table.tableName,
        client: table.client,
        sqsClientConfig: clientConfig(),
      }),
    ) as never as typeof handler;
    const event = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 'm6', version: 1 },
      payload: { name: 'Nia' },
    });
    runs = 0;

    await expect(bare(bridgeEvent(event), lambdaContext())).rejects.toThrow(
      /set failureDestination: true, or set deadLetterQueueUrl/,
    );
    expect(runs).toBe(0);
  });

  it('refuses a batch of several messages, pointing to withInbox', async () => {
    const a = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 'm5', version: 1 },
      payload: { name: 'A' },
    });

    await expect(handler(sqsEventOfEvents([a, a]), lambdaContext())).rejects.toThrow(
      /one message per invocation; got 2/,
    );
  });
});
