import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  InboxEngine,
  type InboxMessage,
  type Outcome,
  withInbox,
} from '../../../lib/consumer/index.js';
import { bridgeEvent, envelope, sqsEventOf, sqsMessage } from '../../helpers/inbox.js';
import { lambdaContext } from '../../helpers/lambda-context.js';

const sqs = new SQSClient({ region: 'us-east-1' });
const sq = mockClient(sqs);
const event = envelope({
  type: 'Tested',
  aggregate: { type: 'T', id: '1', version: 1 },
  payload: {},
});

function engineWith(
  outcomes: (message: InboxMessage) => Outcome | Promise<Outcome>,
  extra: Record<string, unknown> = {},
) {
  const engine = new InboxEngine({
    consumerName: 'unit',
    tableName: 'unit',
    client: new DynamoDBClient({ region: 'us-east-1' }),
    sqsClient: sqs,
    deadLetterQueueUrl: 'http://localhost/000000000000/unit-dlq',
    ...extra,
  });
  vi.spyOn(engine, 'process').mockImplementation(async (message) => outcomes(message));
  vi.spyOn(engine, 'prefetch').mockResolvedValue(new Map());
  return engine;
}

const handled: Outcome = { status: 'handled', event, staleSkipped: 0, published: [] };

describe('Function: withInbox', () => {
  beforeEach(() => {
    sq.reset();
    sq.on(GetQueueUrlCommand).resolves({ QueueUrl: 'http://localhost/000000000000/user-score' });
    sq.on(ChangeMessageVisibilityCommand).resolves({});
    sq.on(SendMessageCommand).resolves({ MessageId: 'dl-1' });
  });

  describe('SQS batches', () => {
    it('reports exactly the messages that must come back', async () => {
      // Prepare
      const messages = [sqsMessage(event), sqsMessage(event), sqsMessage(event), sqsMessage(event)];
      const byId: Record<string, Outcome> = {
        [messages[0]?.messageId ?? '']: handled,
        [messages[1]?.messageId ?? '']: { status: 'failed', event, error: new Error('boom') },
        [messages[2]?.messageId ?? '']: { status: 'duplicate', event },
        [messages[3]?.messageId ?? '']: {
          status: 'retry',
          kind: 'not-yet',
          event,
          reason: 'later',
          delaySeconds: 8,
        },
      };
      const handler = withInbox(
        async () => {},
        engineWith((m) => byId[m.messageId] as Outcome),
      );

      // Act
      const response = await handler(sqsEventOf(messages));

      // Assess
      expect(response).toStrictEqual({
        batchItemFailures: [
          { itemIdentifier: messages[1]?.messageId },
          { itemIdentifier: messages[3]?.messageId },
        ],
      });
    });

    it('delays a "not yet" message with ChangeMessageVisibility on its queue', async () => {
      const message = sqsMessage(event, 3);
      const handler = withInbox(
        async () => {},
        engineWith(() => ({
          status: 'retry',
          kind: 'not-yet',
          event,
          reason: 'later',
          delaySeconds: 8,
        })),
      );

      await handler(sqsEventOf([message]));

      expect(sq.commandCalls(GetQueueUrlCommand)[0]?.args[0].input).toStrictEqual({
        QueueName: 'user-score',
        QueueOwnerAWSAccountId: '000000000000',
      });
      expect(sq.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toStrictEqual({
        QueueUrl: 'http://localhost/000000000000/user-score',
        ReceiptHandle: message.receiptHandle,
        VisibilityTimeout: 8,
      });
    });

    it('uses the queue URL it was given, with no GetQueueUrl call', async () => {
      const message = sqsMessage(event, 3);
      const handler = withInbox(
        async () => {},
        engineWith(
          () => ({ status: 'retry', kind: 'conflict', event, reason: 'raced', delaySeconds: 1 }),
          { queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/user-score' },
        ),
      );

      await handler(sqsEventOf([message]));

      expect(sq.commandCalls(GetQueueUrlCommand)).toHaveLength(0);
      expect(sq.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input.QueueUrl).toBe(
        'https://sqs.us-east-1.amazonaws.com/000000000000/user-score',
      );
    });

    it('clamps a delay near the 12-hour limit to what the receipt has left, instead of being refused', async () => {
      vi.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z'), toFake: ['Date'] });
      const message = sqsMessage(event, 3);
      const handler = withInbox(
        async () => {},
        engineWith(() => {
          // The handler ran for ten minutes before asking for the longest delay.
          vi.setSystemTime(new Date('2026-12-01T00:10:00Z'));
          return { status: 'retry', kind: 'not-yet', event, reason: 'later', delaySeconds: 43_200 };
        }),
      );

      await handler(sqsEventOf([message]));
      vi.useRealTimers();

      expect(
        sq.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input.VisibilityTimeout,
      ).toBe(43_200 - 60 - 600);
    });

    it('backs off a failed message too, instead of waiting out the visibility timeout', async () => {
      const message = sqsMessage(event, 2);
      const handler = withInbox(
        async () => {},
        engineWith(() => ({ status: 'failed', event, error: new Error('downstream') })),
      );

      await handler(sqsEventOf([message]));

      const timeout = sq.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input
        .VisibilityTimeout;
      expect(timeout).toBeGreaterThanOrEqual(2);
      expect(timeout).toBeLessThanOrEqual(4);
    });

    it('still reports the message when the visibility change fails', async () => {
      sq.on(ChangeMessageVisibilityCommand).rejects(new Error('SQS down'));
      const message = sqsMessage(event);
      const handler = withInbox(
        async () => {},
        engineWith(() => ({
          status: 'retry',
          kind: 'not-yet',
          event,
          reason: 'later',
          delaySeconds: 8,
        })),
      );

      expect(await handler(sqsEventOf([message]))).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: message.messageId }],
      });
    });

    it('dead-letters with the reason and the original body, then acknowledges', async () => {
      const message = sqsMessage(event, 10);
      const handler = withInbox(
        async () => {},
        engineWith(() => ({
          status: 'dead-letter',
          event,
          reason: 'Not yet: x (still after 10 attempts)',
        })),
      );

      const response = await handler(sqsEventOf([message]));

      expect(response).toStrictEqual({ batchItemFailures: [] });
      const sent = sq.commandCalls(SendMessageCommand)[0]?.args[0].input;
      expect(sent?.QueueUrl).toBe('http://localhost/000000000000/unit-dlq');
      expect(JSON.parse(sent?.MessageBody ?? '')).toStrictEqual({
        kind: 'eventbox.consumer.dead-letter',
        consumer: 'unit',
        reason: 'Not yet: x (still after 10 attempts)',
        eventId: event.id,
        eventType: 'Tested',
        messageId: message.messageId,
        receiveCount: 10,
        deadLetteredAt: expect.any(String),
        body: message.body,
      });
    });

    it('keeps a message to dead-letter in the queue when the dead-letter send fails', async () => {
      sq.on(SendMessageCommand).rejects(new Error('SQS down'));
      const message = sqsMessage(event);
      const handler = withInbox(
        async () => {},
        engineWith(() => ({ status: 'dead-letter', reason: 'bad' })),
      );

      expect(await handler(sqsEventOf([message]))).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: message.messageId }],
      });
    });

    it('keeps a message to dead-letter in the queue when no dead-letter queue is configured', async () => {
      const message = sqsMessage(event);
      const handler = withInbox(
        async () => {},
        engineWith(() => ({ status: 'dead-letter', reason: 'bad' }), {
          deadLetterQueueUrl: undefined,
        }),
      );

      expect(await handler(sqsEventOf([message]))).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: message.messageId }],
      });
      expect(sq.commandCalls(SendMessageCommand)).toHaveLength(0);
    });

    it('on FIFO queues, fails the rest of a group after its first failure while other groups go on', async () => {
      // Prepare: group A fails at its second message; group B is fine
      const a = [1, 2, 3].map(() => sqsMessage(event, 1, { groupId: 'A' }));
      const b = [1, 2].map(() => sqsMessage(event, 1, { groupId: 'B' }));
      const interleaved = [a[0], b[0], a[1], a[2], b[1]] as InboxMessage[];
      const ran: string[] = [];
      const engine = engineWith((m) => {
        ran.push(m.messageId);
        return m.messageId === a[1]?.messageId
          ? { status: 'failed', event, error: new Error('x') }
          : handled;
      });

      // Act
      const response = await withInbox(async () => {}, engine)(sqsEventOf(interleaved));

      // Assess
      expect(response).toStrictEqual({
        batchItemFailures: [
          { itemIdentifier: a[1]?.messageId },
          { itemIdentifier: a[2]?.messageId },
        ],
      });
      expect(ran).not.toContain(a[2]?.messageId);
      expect(ran.filter((id) => id === a[0]?.messageId || id === a[1]?.messageId)).toStrictEqual([
        a[0]?.messageId,
        a[1]?.messageId,
      ]);
      expect(ran).toContain(b[1]?.messageId);
    });

    it('on FIFO queues, makes the skipped rest of a group visible at once: the failed head alone sets the delay', async () => {
      const a = [1, 2, 3].map(() => sqsMessage(event, 1, { groupId: 'A' }));
      const engine = engineWith((m) =>
        m.messageId === a[0]?.messageId
          ? { status: 'retry', kind: 'not-yet', event, reason: 'later', delaySeconds: 8 }
          : handled,
      );

      await withInbox(async () => {}, engine)(sqsEventOf(a));

      expect(
        sq
          .commandCalls(ChangeMessageVisibilityCommand)
          .map((c) => [c.args[0].input.ReceiptHandle, c.args[0].input.VisibilityTimeout]),
      ).toStrictEqual([
        [a[0]?.receiptHandle, 8],
        [a[1]?.receiptHandle, 0],
        [a[2]?.receiptHandle, 0],
      ]);
    });

    it('handles the messages of a standard batch concurrently, up to the limit', async () => {
      let inflight = 0;
      let peak = 0;
      const engine = engineWith(
        async () => {
          inflight++;
          peak = Math.max(peak, inflight);
          await new Promise((resolve) => setTimeout(resolve, 10));
          inflight--;
          return handled;
        },
        { concurrency: 3 },
      );

      await withInbox(async () => {}, engine)(
        sqsEventOf(Array.from({ length: 8 }, () => sqsMessage(event))),
      );

      expect(peak).toBe(3);
    });
  });

  describe("defect 2: on the queue's last delivery (maxReceiveCount)", () => {
    const letters = () =>
      sq
        .commandCalls(SendMessageCommand)
        .filter((c) => c.args[0].input.QueueUrl?.endsWith('-dlq'))
        .map((c) => JSON.parse(c.args[0].input.MessageBody ?? '{}') as { reason: string });

    it.each([
      [
        { status: 'failed', event, error: new Error('Throughput exceeds the current capacity') },
        'Handler failed: Throughput exceeds the current capacity',
      ],
      [
        { status: 'retry', kind: 'conflict', event, reason: 'version 3 expected', delaySeconds: 1 },
        'Conflict: version 3 expected',
      ],
    ] as const)(
      'dead-letters a message that would come back, with its reason: %o',
      async (outcome, reason) => {
        const last = sqsMessage(event, 20);
        const handler = withInbox(
          async () => {},
          engineWith(() => outcome, { maxReceiveCount: 20 }),
        );

        const response = await handler(sqsEventOf([last]));

        expect(response).toStrictEqual({ batchItemFailures: [] });
        expect(letters().map((l) => l.reason)).toStrictEqual([
          `${reason} (delivery 20, the queue's last: maxReceiveCount 20)`,
        ]);
        expect(sq.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
      },
    );

    const notYet: Outcome = {
      status: 'retry',
      kind: 'not-yet',
      event,
      reason: 'no order',
      delaySeconds: 40,
    };

    it('sends a "not yet" that may still wait to its queue again as a new message, and lets the original go', async () => {
      const last = sqsMessage(event, 20);
      const handler = withInbox(
        async () => {},
        engineWith(() => notYet, { maxReceiveCount: 20 }),
      );

      const response = await handler(sqsEventOf([last]));

      expect(response).toStrictEqual({ batchItemFailures: [] });
      expect(sq.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toStrictEqual([
        {
          QueueUrl: 'http://localhost/000000000000/user-score',
          MessageBody: last.body,
          DelaySeconds: 40,
        },
      ]);
    });

    it("holds a delay to SQS's 900 seconds", async () => {
      const handler = withInbox(
        async () => {},
        engineWith(() => ({ ...notYet, delaySeconds: 4_000 }), { maxReceiveCount: 20 }),
      );

      await handler(sqsEventOf([sqsMessage(event, 20)]));

      expect(sq.commandCalls(SendMessageCommand)[0]?.args[0].input.DelaySeconds).toBe(900);
    });

    it("dead-letters a FIFO message on its last delivery rather than send it behind its group's later messages", async () => {
      const last = sqsMessage(event, 20, { groupId: 'T#1' });
      const handler = withInbox(
        async () => {},
        engineWith(() => notYet, { maxReceiveCount: 20 }),
      );

      expect(await handler(sqsEventOf([last]))).toStrictEqual({ batchItemFailures: [] });
      expect(letters().map((l) => l.reason)).toStrictEqual([
        "Not yet: no order (delivery 20, the queue's last: maxReceiveCount 20)",
      ]);
      expect(sq.commandCalls(SendMessageCommand)).toHaveLength(1);
    });

    it('forgets the "not yet" wait of a message it dead-letters, so that a redrive waits afresh', async () => {
      const engine = engineWith(() => notYet, { maxReceiveCount: 20 });
      const forget = vi.spyOn(engine, 'deadLettered').mockResolvedValue();
      sq.on(SendMessageCommand, { QueueUrl: 'http://localhost/000000000000/user-score' }).rejects(
        new Error('SQS down'),
      );

      await withInbox(async () => {}, engine)(sqsEventOf([sqsMessage(event, 20)]));

      expect(forget).toHaveBeenCalledWith(event);
    });

    it('dead-letters a "not yet" with its reason when it cannot be sent to its queue again', async () => {
      sq.on(SendMessageCommand, { QueueUrl: 'http://localhost/000000000000/user-score' }).rejects(
        new Error('SQS down'),
      );
      const last = sqsMessage(event, 20);
      const handler = withInbox(
        async () => {},
        engineWith(() => notYet, { maxReceiveCount: 20 }),
      );

      expect(await handler(sqsEventOf([last]))).toStrictEqual({ batchItemFailures: [] });
      expect(letters().map((l) => l.reason)).toStrictEqual([
        "Not yet: no order (delivery 20, the queue's last: maxReceiveCount 20)",
      ]);
    });

    it('retries as usual on any earlier delivery', async () => {
      const handler = withInbox(
        async () => {},
        engineWith(() => ({ status: 'failed', event, error: new Error('throttled') }), {
          maxReceiveCount: 20,
        }),
      );
      const earlier = sqsMessage(event, 19);

      expect(await handler(sqsEventOf([earlier]))).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: earlier.messageId }],
      });
      expect(letters()).toStrictEqual([]);
    });

    it('dead-letters a message not started before the deadline on its last delivery, with that reason', async () => {
      // 10 s left when the invocation starts, 100 ms by the time the message is reached
      let calls = 0;
      const context = {
        ...lambdaContext(),
        getRemainingTimeInMillis: () => (calls++ === 0 ? 10_000 : 100),
      };
      const handler = withInbox(
        async () => {},
        engineWith(() => handled, { maxReceiveCount: 20 }),
      );

      const response = await handler(sqsEventOf([sqsMessage(event, 20)]), context);

      expect(response).toStrictEqual({ batchItemFailures: [] });
      expect(letters().map((l) => l.reason)).toStrictEqual([
        "Not started: the invocation was near its deadline (delivery 20, the queue's last: maxReceiveCount 20)",
      ]);
    });

    it('leaves a message to the redrive policy when the dead-letter send fails, as before', async () => {
      sq.on(SendMessageCommand).rejects(new Error('SQS down'));
      const last = sqsMessage(event, 20);
      const handler = withInbox(
        async () => {},
        engineWith(() => ({ status: 'failed', event, error: new Error('throttled') }), {
          maxReceiveCount: 20,
        }),
      );

      expect(await handler(sqsEventOf([last]))).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: last.messageId }],
      });
    });
  });

  it('starts no message near the deadline: the rest go back to the queue at once, and the batch does not time out', async () => {
    // Prepare: 10 s left at the start; the first message takes 9 of them
    let remaining = 10_000;
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => remaining };
    const messages = [sqsMessage(event), sqsMessage(event), sqsMessage(event)];
    const engine = engineWith(
      () => {
        remaining -= 9_000;
        return handled;
      },
      { concurrency: 1 },
    );

    // Act
    const response = await withInbox(async () => {}, engine)(sqsEventOf(messages), context);

    // Assess
    expect(engine.process).toHaveBeenCalledTimes(1);
    expect(response).toStrictEqual({
      batchItemFailures: messages.slice(1).map((m) => ({ itemIdentifier: m.messageId })),
    });
    expect(
      sq.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input),
    ).toStrictEqual(
      messages
        .slice(1)
        .map((m) =>
          expect.objectContaining({ ReceiptHandle: m.receiptHandle, VisibilityTimeout: 0 }),
        ),
    );
  });

  it('counts each outcome under its metric', async () => {
    // Prepare: one message of each outcome
    const outcomes: Outcome[] = [
      { status: 'handled', event, staleSkipped: 2, published: [] },
      { status: 'duplicate', event },
      { status: 'retry', kind: 'not-yet', event, reason: 'later', delaySeconds: 2 },
      { status: 'retry', kind: 'conflict', event, reason: 'raced', delaySeconds: 1 },
      { status: 'dead-letter', event, reason: 'bad' },
      { status: 'failed', event, error: new Error('x') },
    ];
    const messages = outcomes.map(() => sqsMessage(event));
    const engine = engineWith(
      (m) => outcomes[messages.findIndex((x) => x.messageId === m.messageId)] as Outcome,
    );
    const added: Record<string, number> = {};
    vi.spyOn(engine.metrics, 'addMetric').mockImplementation((name, _unit, value) => {
      added[name] = (added[name] ?? 0) + value;
      return engine.metrics;
    });

    // Act
    await withInbox(async () => {}, engine)(sqsEventOf(messages));

    // Assess
    expect(added).toStrictEqual({
      Handled: 1,
      StaleSkipped: 2,
      Duplicates: 1,
      NotYetRetries: 1,
      ConflictRetries: 1,
      DeadLettered: 1,
      Failures: 1,
    });
  });

  describe('EventBridge events delivered directly', () => {
    it('returns nothing when handled', async () => {
      const handler = withInbox(
        async () => {},
        engineWith(() => handled),
      );

      expect(await handler(bridgeEvent(event))).toBeUndefined();
    });

    it('throws so that Lambda retries, with the reason, when the event must come back and the function has an on-failure destination', async () => {
      const handler = withInbox(
        async () => {},
        engineWith(
          () => ({ status: 'retry', kind: 'not-yet', event, reason: 'later', delaySeconds: 2 }),
          { failureDestination: true },
        ),
      );

      await expect(handler(bridgeEvent(event))).rejects.toThrow(/was not handled; retry: later/);
      expect(sq.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
      expect(sq.commandCalls(SendMessageCommand)).toHaveLength(0);
    });

    it('defect 5: without an on-failure destination, dead-letters an event that must come back, with its reason, instead of leaving it to two retries and a drop', async () => {
      const handler = withInbox(
        async () => {},
        engineWith(() => ({ status: 'failed', event, error: new Error('throttled') })),
      );

      expect(await handler(bridgeEvent(event))).toBeUndefined();
      const [letter, ...more] = sq.commandCalls(SendMessageCommand);
      expect(more).toStrictEqual([]);
      expect(JSON.parse(letter?.args[0].input.MessageBody ?? '{}')).toMatchObject({
        eventId: event.id,
        reason:
          'Handler failed: throttled (delivered directly by EventBridge to a function without an on-failure destination, where Lambda would drop it after two retries)',
      });
    });

    it('defect 5: refuses a direct delivery with neither an on-failure destination nor a dead-letter queue, before running the handler', async () => {
      let ran = false;
      const handler = withInbox(
        async () => {
          ran = true;
        },
        {
          consumerName: 'unit',
          tableName: 'unit',
          client: new DynamoDBClient({ region: 'us-east-1' }),
          sqsClient: sqs,
        },
      );

      await expect(handler(bridgeEvent(event))).rejects.toThrow(
        /nowhere to go if it fails: Lambda drops it after two retries/,
      );
      expect(ran).toBe(false);
    });
  });

  it('rejects an invocation that is neither SQS nor EventBridge', async () => {
    const handler = withInbox(
      async () => {},
      engineWith(() => handled),
    );

    await expect(handler({ hello: 'world' })).rejects.toThrow(
      /SQS events whose bodies are EventBridge events/,
    );
  });
});

describe('Method: InboxEngine.backoffSeconds', () => {
  it('grows exponentially from the base, jittered between half and the whole, and stops at the cap', () => {
    const engine = new InboxEngine({
      consumerName: 'u',
      tableName: 't',
      clientConfig: {},
      notYet: { backoff: { baseSeconds: 2, capSeconds: 60 } },
    });

    for (const [attempt, ceiling] of [
      [1, 2],
      [2, 4],
      [3, 8],
      [5, 32],
      [6, 60],
      [12, 60],
    ] as const) {
      const delays = Array.from({ length: 200 }, () => engine.backoffSeconds(attempt));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(ceiling / 2);
      expect(Math.max(...delays)).toBeLessThanOrEqual(ceiling);
    }
  });
});
