import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createRelayHandler } from '../../../lib/relay/handler.js';
import type { RelayOptions } from '../../../lib/relay/options.js';
import { InvalidOptionsError } from '../../../lib/shared/errors.js';
import { lambdaContext } from '../../helpers/lambda-context.js';
import {
  eventIdOf,
  outboxImage,
  outboxRecord,
  streamEvent,
  streamRecord,
} from '../../helpers/stream-records.js';

const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
const sqs = new SQSClient({ region: 'us-east-1' });
const eb = mockClient(eventBridge);
const sq = mockClient(sqs);
const queueUrl = 'http://localhost/000000000000/relay-dlq';

function relay(options: Partial<RelayOptions> = {}) {
  return createRelayHandler({
    eventBusName: 'orders-bus',
    deadLetterQueueUrl: queueUrl,
    eventBridgeClient: eventBridge,
    sqsClient: sqs,
    backoff: { baseMs: 1, capMs: 2 },
    safetyMarginMs: 100,
    ...options,
  } as RelayOptions);
}

/** Accepts every entry, recording the calls. */
function acceptAll(calls: PutEventsRequestEntry[][]) {
  eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
    calls.push(input.Entries);
    return {
      FailedEntryCount: 0,
      Entries: input.Entries.map((_, i) => ({ EventId: `eb-${calls.length}-${i}` })),
    };
  });
}

/** Every dead letter sent, alone or in batches. */
function deadLetters(): Array<Record<string, unknown>> {
  return [
    ...sq
      .commandCalls(SendMessageBatchCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .map((e) => e.MessageBody),
    ...sq.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageBody),
  ].map((body) => JSON.parse(body ?? '{}'));
}

describe('Function: createRelayHandler', () => {
  beforeEach(() => {
    eb.reset();
    sq.reset();
    sq.on(SendMessageBatchCommand).callsFake(async (input: { Entries: Array<{ Id: string }> }) => ({
      Successful: input.Entries.map((e) => ({
        Id: e.Id,
        MessageId: `m-${e.Id}`,
        MD5OfMessageBody: '',
      })),
    }));
    sq.on(SendMessageCommand).resolves({ MessageId: 'm' });
  });

  it('publishes each outbox INSERT as an entry carrying the envelope', async () => {
    // Prepare
    const calls: PutEventsRequestEntry[][] = [];
    acceptAll(calls);
    const image = outboxImage('o-1', 1, { total: 10 });

    // Act
    const response = await relay()(streamEvent([streamRecord('INSERT', image)]), lambdaContext());

    // Assess
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(calls).toStrictEqual([
      [
        {
          EventBusName: 'orders-bus',
          Source: 'orders',
          DetailType: 'OrderTouched',
          Detail: image.detail,
          Time: new Date(JSON.parse(image.detail as string).time),
        },
      ],
    ]);
  });

  it('passes the producer trace header on', async () => {
    const calls: PutEventsRequestEntry[][] = [];
    acceptAll(calls);
    const image = { ...outboxImage('o-1', 1), traceHeader: 'Root=1-abc-def;Sampled=1' };

    await relay()(streamEvent([streamRecord('INSERT', image)]), lambdaContext());

    expect(calls[0]?.[0]?.TraceHeader).toBe('Root=1-abc-def;Sampled=1');
  });

  it('chunks by count: at most 10 entries per call', async () => {
    const calls: PutEventsRequestEntry[][] = [];
    acceptAll(calls);
    const records = Array.from({ length: 25 }, (_, i) => outboxRecord(`o-${i}`, 1));

    await relay()(streamEvent(records), lambdaContext());

    expect(calls.map((c) => c.length).sort((a, b) => b - a)).toStrictEqual([10, 10, 5]);
    expect(
      calls
        .flat()
        .map((e) => JSON.parse(e.Detail ?? '').id)
        .sort(),
    ).toStrictEqual(records.map(eventIdOf).sort());
  });

  it('chunks by size: a call stays within the entry limit', async () => {
    const calls: PutEventsRequestEntry[][] = [];
    acceptAll(calls);
    const records = Array.from({ length: 6 }, (_, i) =>
      outboxRecord(`o-${i}`, 1, { blob: 'x'.repeat(100 * 1024) }),
    );

    await relay({ maxEntryBytes: 256 * 1024 })(streamEvent(records), lambdaContext());

    expect(calls.map((c) => c.length)).toStrictEqual([2, 2, 2]);
  });

  it('ignores MODIFY, REMOVE, entity INSERTs and outbox items without the marker', async () => {
    const calls: PutEventsRequestEntry[][] = [];
    acceptAll(calls);
    const outbox = outboxImage('o-1', 1);
    const records = [
      streamRecord('MODIFY', outbox),
      streamRecord('REMOVE', undefined, { pk: outbox.pk, sk: outbox.sk }),
      streamRecord('INSERT', { pk: 'ORDER#1', sk: 'ORDER', version: 1 }),
      streamRecord('INSERT', { ...outbox, _eventbox: 'inbox' }),
    ];

    const response = await relay()(streamEvent(records), lambdaContext());

    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(deadLetters()).toStrictEqual([]);
  });

  it.each([
    [
      'detail that is not JSON',
      { ...outboxImage('o-1', 1), detail: '{oops' },
      /"detail" is not JSON/,
    ],
    ['no detail', { ...outboxImage('o-1', 1), detail: undefined }, /no "detail" string/],
    ['a detail that is a number', { ...outboxImage('o-1', 1), detail: 42 }, /no "detail" string/],
    [
      'an invalid envelope',
      { ...outboxImage('o-1', 1), detail: JSON.stringify({ id: 'x' }) },
      /Invalid event/,
    ],
  ])(
    'dead-letters a record with %s, with the reason and the original record, and goes on',
    async (_, image, reason) => {
      const calls: PutEventsRequestEntry[][] = [];
      acceptAll(calls);
      const bad = streamRecord('INSERT', image);
      const good = outboxRecord('o-2', 1);

      const response = await relay({ maxEntryBytes: 256 * 1024 })(
        streamEvent([bad, good]),
        lambdaContext(),
      );

      expect(response).toStrictEqual({ batchItemFailures: [] });
      expect(calls.flat()).toHaveLength(1);
      const [letter] = deadLetters();
      expect(letter).toMatchObject({
        kind: 'eventbox.relay.dead-letter',
        sequenceNumber: bad.dynamodb?.SequenceNumber,
        record: bad,
      });
      expect(letter?.reason).toMatch(reason);
    },
  );

  it('dead-letters an entry over the bus limit with its keys when the record is too large for SQS', async () => {
    acceptAll([]);
    const bad = streamRecord('INSERT', outboxImage('o-1', 1, { blob: 'x'.repeat(300 * 1024) }));

    const response = await relay({ maxEntryBytes: 256 * 1024 })(
      streamEvent([bad]),
      lambdaContext(),
    );

    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(deadLetters()).toMatchObject([
      {
        reason: expect.stringMatching(/the limit is 262144/),
        recordTruncated: true,
        record: {
          eventName: 'INSERT',
          dynamodb: { Keys: bad.dynamodb?.Keys, SequenceNumber: bad.dynamodb?.SequenceNumber },
        },
      },
    ]);
  });

  it('dead-letters an outbox INSERT without a new image, since the stream view type is wrong', async () => {
    acceptAll([]);
    const outbox = outboxImage('o-1', 1);

    await relay()(
      streamEvent([streamRecord('INSERT', undefined, { pk: outbox.pk, sk: outbox.sk })]),
      lambdaContext(),
    );

    expect(deadLetters()[0]?.reason).toMatch(
      /stream view type must be NEW_IMAGE or NEW_AND_OLD_IMAGES/,
    );
  });

  it('retries throttled entries inside the invocation until they are accepted', async () => {
    // Prepare: each entry is throttled on its first two attempts
    const attempts = new Map<string, number>();
    eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
      const entries = input.Entries.map((e, i) => {
        const id = JSON.parse(e.Detail ?? '').id as string;
        const n = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, n);
        return n <= 2
          ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }
          : { EventId: `eb-${i}` };
      });
      return { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries };
    });
    const records = Array.from({ length: 5 }, (_, i) => outboxRecord(`o-${i}`, 1));

    // Act
    const response = await relay()(streamEvent(records), lambdaContext());

    // Assess
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect([...attempts.values()]).toStrictEqual([3, 3, 3, 3, 3]);
  });

  it('retries a throttled call as a whole', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
      $retryable: { throttling: true },
    });
    eb.on(PutEventsCommand)
      .rejectsOnce(throttled)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });

    const response = await relay()(streamEvent([outboxRecord('o-1', 1)]), lambdaContext());

    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(2);
  });

  it('reports the first record when retries run out, so Lambda retries from there', async () => {
    eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: input.Entries.length,
      Entries: input.Entries.map(() => ({ ErrorCode: 'InternalFailure' })),
    }));
    const records = [outboxRecord('o-1', 1), outboxRecord('o-2', 1)];

    const response = await relay({ maxAttempts: 3 })(streamEvent(records), lambdaContext());

    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }],
    });
    const attempts = eb
      .commandCalls(PutEventsCommand)
      .flatMap((c) => c.args[0].input.Entries ?? [])
      .map((e) => JSON.parse(e.Detail ?? '').id);
    expect(attempts.filter((id) => id === eventIdOf(records[0] as never))).toHaveLength(3);
  });

  it('dead-letters entries rejected as invalid and publishes the rest', async () => {
    const records = Array.from({ length: 4 }, (_, i) => outboxRecord(`o-${i}`, 1));
    const rejected = eventIdOf(records[1] as never);
    eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
      const entries = input.Entries.map((e) =>
        JSON.parse(e.Detail ?? '').id === rejected
          ? { ErrorCode: 'MalformedDetail', ErrorMessage: 'bad' }
          : { EventId: 'ok' },
      );
      return { FailedEntryCount: 1, Entries: entries };
    });

    const response = await relay()(streamEvent(records), lambdaContext());

    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(deadLetters()).toMatchObject([
      {
        eventId: rejected,
        errorCode: 'MalformedDetail',
        reason: 'EventBridge rejected the entry: MalformedDetail (bad)',
      },
    ]);
  });

  it('reports a record whose dead-letter send failed instead of dropping it', async () => {
    acceptAll([]);
    sq.reset();
    sq.on(SendMessageBatchCommand).rejects(new Error('SQS down'));
    sq.on(SendMessageCommand).rejects(new Error('SQS down'));
    const bad = streamRecord('INSERT', { ...outboxImage('o-1', 1), detail: 'nope' });

    const response = await relay()(
      streamEvent([outboxRecord('o-0', 1), bad, outboxRecord('o-2', 1)]),
      lambdaContext(),
    );

    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: bad.dynamodb?.SequenceNumber }],
    });
  });

  it("packs dead letters by bytes, so five ~200 KB poison records do not exceed SQS's batch request size", async () => {
    acceptAll([]);
    const poison = Array.from({ length: 5 }, (_, i) =>
      streamRecord('INSERT', { ...outboxImage(`o-${i}`, 1), detail: 'x'.repeat(200 * 1024) }),
    );

    const response = await relay()(streamEvent(poison), lambdaContext());

    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(deadLetters().map((l) => l.sequenceNumber)).toStrictEqual(
      poison.map((r) => r.dynamodb?.SequenceNumber),
    );
    expect(deadLetters().every((l) => l.recordTruncated === false)).toBe(true);
    const requestBytes = [
      ...sq
        .commandCalls(SendMessageBatchCommand)
        .map((c) => (c.args[0].input.Entries ?? []).map((e) => e.MessageBody ?? '')),
      ...sq.commandCalls(SendMessageCommand).map((c) => [c.args[0].input.MessageBody ?? '']),
    ].map((bodies) => bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0));
    expect(Math.max(...requestBytes)).toBeLessThanOrEqual(256 * 1024);
  });

  it('sends the letters of a batch refused as a whole one at a time', async () => {
    acceptAll([]);
    sq.on(SendMessageBatchCommand).rejects(
      Object.assign(new Error('too long'), { name: 'BatchRequestTooLong' }),
    );
    const poison = Array.from({ length: 3 }, (_, i) =>
      streamRecord('INSERT', { ...outboxImage(`o-${i}`, 1), detail: 'nope' }),
    );

    const response = await relay()(streamEvent(poison), lambdaContext());

    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(sq.commandCalls(SendMessageCommand)).toHaveLength(3);
  });

  it('reports a poison record as failed when no dead-letter queue is configured', async () => {
    acceptAll([]);
    const bad = streamRecord('INSERT', { ...outboxImage('o-1', 1), detail: 'nope' });

    const response = await relay({ deadLetterQueueUrl: undefined })(
      streamEvent([bad]),
      lambdaContext(),
    );

    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: bad.dynamodb?.SequenceNumber }],
    });
  });

  it('stops at a setup error (access denied) without dead-lettering', async () => {
    eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => ({
      FailedEntryCount: input.Entries.length,
      Entries: input.Entries.map(() => ({ ErrorCode: 'AccessDeniedException' })),
    }));
    const records = [outboxRecord('o-1', 1), outboxRecord('o-2', 1)];

    const response = await relay()(streamEvent(records), lambdaContext());

    // The first unpublished record, by its sequence number: the mapping retries from there.
    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }],
    });
    expect(deadLetters()).toStrictEqual([]);
  });

  it('reports everything unpublished when the invocation is out of time', async () => {
    acceptAll([]);
    const records = [outboxRecord('o-1', 1), outboxRecord('o-2', 1)];

    const response = await relay({ safetyMarginMs: 5_000 })(
      streamEvent(records),
      lambdaContext(1_000),
    );

    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: records[0]?.dynamodb?.SequenceNumber }],
    });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it.each([
    ['an empty bus name', { eventBusName: '' }, 'eventBusName'],
    [
      'a concurrency of 0',
      { eventBusName: 'b', concurrency: 0 },
      'concurrency: must be at least 1',
    ],
    ['an entry limit over 1 MB', { eventBusName: 'b', maxEntryBytes: 2_000_000 }, 'maxEntryBytes'],
    ['an unknown option', { eventBusName: 'b', busName: 'x' }, 'busName'],
    [
      'a queue that is not a URL',
      { eventBusName: 'b', deadLetterQueueUrl: 'dlq' },
      'deadLetterQueueUrl',
    ],
  ])('rejects %s', (_, options, problem) => {
    expect(() => createRelayHandler(options as RelayOptions)).toThrow(InvalidOptionsError);
    expect(() => createRelayHandler(options as RelayOptions)).toThrow(problem);
  });
});
