import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envelopeOf, InboxEngine, messagesOf } from '../../../lib/consumer/index.js';
import { InvalidOptionsError } from '../../../lib/shared/errors.js';
import { bridgeEvent, envelope, sqsMessage } from '../../helpers/inbox.js';

const event = envelope({
  type: 'OrderPaid',
  aggregate: { type: 'Order', id: 'o', version: 2 },
  payload: { amount: 5 },
});

describe('Function: envelopeOf', () => {
  it('reads the envelope from the detail of an EventBridge event in an SQS body', () => {
    expect(envelopeOf(sqsMessage(event))).toStrictEqual(event);
  });

  it.each([
    ['a body that is not JSON', 'hello', /the message body is not JSON/],
    [
      'a body that is not an EventBridge event',
      JSON.stringify({ hello: 'world' }),
      /not an EventBridge event/,
    ],
    [
      'a detail that is not an envelope',
      JSON.stringify({ ...bridgeEvent(event), detail: { id: 'x' } }),
      /the detail is not a valid event envelope/,
    ],
    [
      'a negative version',
      JSON.stringify(bridgeEvent({ ...event, aggregate: { ...event.aggregate, version: -1 } })),
      /aggregate.version: must be at least 1/,
    ],
    [
      'a detail-type that differs from the envelope',
      JSON.stringify({ ...bridgeEvent(event), 'detail-type': 'Other' }),
      /detail-type "Other" differs/,
    ],
    [
      'a source that differs from the envelope',
      JSON.stringify({ ...bridgeEvent(event), source: 'spoofed' }),
      /source "spoofed" differs/,
    ],
  ])('rejects %s with InvalidMessageError', (_, body, reason) => {
    expect(() => envelopeOf({ ...sqsMessage(event), body })).toThrow(
      expect.objectContaining({
        name: 'InvalidMessageError',
        message: expect.stringMatching(reason),
      }),
    );
  });
});

describe('Function: messagesOf', () => {
  it('reads receive count, receipt handle, queue and FIFO group of SQS records', () => {
    const [message] = messagesOf(
      {
        Records: [
          {
            messageId: 'm-1',
            receiptHandle: 'rh',
            body: '{}',
            attributes: {
              ApproximateReceiveCount: '4',
              MessageGroupId: 'g-1',
              SentTimestamp: '0',
              SenderId: 's',
              ApproximateFirstReceiveTimestamp: '0',
            },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q.fifo',
            awsRegion: 'us-east-1',
          },
        ],
      },
      1_000,
    );

    expect(message).toStrictEqual({
      receivedAt: 1_000,
      messageId: 'm-1',
      origin: 'sqs',
      body: '{}',
      receiveCount: 4,
      receiptHandle: 'rh',
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:q.fifo',
      groupId: 'g-1',
    });
  });

  it('takes an EventBridge event invoking the function directly as one message', () => {
    const bridged = bridgeEvent(event);

    expect(messagesOf(bridged)).toStrictEqual([
      { messageId: bridged.id, origin: 'eventbridge', body: bridged, receiveCount: 1 },
    ]);
  });
});

describe('Method: InboxEngine.prepare', () => {
  const engine = (options: Record<string, unknown> = {}) =>
    new InboxEngine({
      consumerName: 'u',
      tableName: 't',
      client: new DynamoDBClient({ region: 'us-east-1' }),
      ...options,
    });

  it('dead-letters a payload that fails its schema, naming the field', async () => {
    const prepared = await engine({
      schemas: { OrderPaid: z.object({ amount: z.string() }) },
    }).prepare(sqsMessage(event));

    expect(prepared).toStrictEqual({
      outcome: {
        status: 'dead-letter',
        reason: expect.stringMatching(
          /the payload of OrderPaid fails its schema: payload.amount: /,
        ),
      },
    });
  });

  it('dead-letters an event type without schema by default, and handles it when told to', async () => {
    const schemas = { OrderCanceled: z.object({}) };

    expect(await engine({ schemas }).prepare(sqsMessage(event))).toStrictEqual({
      outcome: {
        status: 'dead-letter',
        reason: 'Invalid message: unknown event type "OrderPaid": no schema for it',
      },
    });
    expect(
      await engine({ schemas, unknownEventTypes: 'handle' }).prepare(sqsMessage(event)),
    ).toStrictEqual({ event });
  });

  it('hands the handler the schema output, so transforms apply', async () => {
    const schemas = { OrderPaid: z.object({ amount: z.number().transform((n) => n * 100) }) };

    expect(await engine({ schemas }).prepare(sqsMessage(event))).toStrictEqual({
      event: { ...event, payload: { amount: 500 } },
    });
  });

  it.each([
    ['a consumer name with "#"', { consumerName: 'a#b' }, 'consumerName'],
    ['an unknown option', { tabel: 'x' }, 'tabel'],
    [
      'unknownEventTypes without schemas',
      { unknownEventTypes: 'handle' },
      'unknownEventTypes needs schemas',
    ],
    ['zero not-yet attempts', { notYet: { maxAttempts: 0 } }, 'notYet.maxAttempts'],
    ['an unknown mode', { mode: 'eventually' }, 'mode'],
  ])('rejects options with %s', (_, options, problem) => {
    expect(() => engine(options)).toThrow(InvalidOptionsError);
    expect(() => engine(options)).toThrow(problem);
  });
});
