import { describe, expect, it } from 'vitest';
import { envelopeOf, messagesOf } from '../../../lib/delivery/messages.js';
import { classifyRecord } from '../../../lib/relay/stream-records.js';
import {
  envelope,
  outboxRecordOf,
  sqsEventOf,
  sqsRecordOf,
  streamRecordOf,
} from '../../../lib/testing/builders.js';

const paid = envelope({
  type: 'OrderPaid',
  source: 'orders',
  aggregate: { type: 'Order', id: '42', version: 2 },
  payload: { amount: 25 },
});

describe('Testing builders', () => {
  it('builds a valid envelope with id, time and defaults', () => {
    expect(paid).toMatchObject({
      type: 'OrderPaid',
      source: 'orders',
      schemaVersion: 1,
      contentType: 'application/json',
    });
    expect(paid.id).toMatch(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/);
  });

  it('builds an SQS event the inbox reads back as the same envelope, redeliveries included', () => {
    const event = sqsEventOf([paid, sqsRecordOf(paid, { receiveCount: 3, messageGroupId: 'g' })]);

    const messages = messagesOf(event);

    expect(messages.map((m) => [m.origin, m.receiveCount, m.groupId])).toStrictEqual([
      ['sqs', 1, undefined],
      ['sqs', 3, 'g'],
    ]);
    expect(messages.map(envelopeOf)).toStrictEqual([paid, paid]);
  });

  it('builds the outbox INSERT the relay publishes as the envelope, unchanged', () => {
    const record = outboxRecordOf(paid);

    const classified = classifyRecord(record, 0, { eventBusName: 'bus', maxEntryBytes: 262_144 });

    expect(classified).toMatchObject({
      kind: 'publishable',
      eventId: paid.id,
      aggregateKey: 'Order#42',
      entry: { EventBusName: 'bus', Source: 'orders', DetailType: 'OrderPaid' },
    });
    expect(
      classified.kind === 'publishable' && JSON.parse(classified.entry.Detail ?? ''),
    ).toStrictEqual(paid);
  });

  it('builds MODIFY and REMOVE records the relay ignores, with increasing sequence numbers', () => {
    const a = streamRecordOf({ pk: 'A', sk: 'B', n: 1 }, { eventName: 'MODIFY' });
    const b = streamRecordOf({ pk: 'A', sk: 'B' }, { eventName: 'REMOVE' });

    expect(b.dynamodb?.NewImage).toBeUndefined();
    expect(Number(b.dynamodb?.SequenceNumber)).toBeGreaterThan(Number(a.dynamodb?.SequenceNumber));
    for (const record of [a, b])
      expect(classifyRecord(record, 0, { eventBusName: 'bus', maxEntryBytes: 262_144 }).kind).toBe(
        'ignored',
      );
  });
});
