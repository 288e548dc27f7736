import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { Transaction } from '../../lib/transaction/transaction.js';
import { testSettings } from './settings.js';

let sequence = 1000;

/** A stream record as Lambda delivers it, for an item image. */
export function streamRecord(
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  image: Record<string, unknown> | undefined,
  keys: Record<string, unknown> = { pk: image?.pk, sk: image?.sk },
): DynamoDBRecord {
  sequence++;
  return {
    eventID: `id-${sequence}`,
    eventName,
    eventSource: 'aws:dynamodb',
    eventSourceARN:
      'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-01-01T00:00:00.000',
    awsRegion: 'us-east-1',
    dynamodb: {
      Keys: marshall(keys, { removeUndefinedValues: true }) as never,
      ...(image ? { NewImage: marshall(image, { removeUndefinedValues: true }) as never } : {}),
      SequenceNumber: String(sequence).padStart(21, '0'),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** The outbox item the producer writes for an event, exactly as it would be stored. */
export function outboxImage(
  aggregateId: string,
  version: number,
  payload: unknown = { version },
  type = 'OrderTouched',
): Record<string, unknown> {
  const tx = new Transaction(testSettings());
  tx.publish({ type, aggregate: { type: 'Order', id: aggregateId, version }, payload });
  const item = tx.params().TransactItems?.[0]?.Put?.Item;
  if (!item) throw new Error('no outbox item');
  return item;
}

export function outboxRecord(
  aggregateId: string,
  version: number,
  payload?: unknown,
): DynamoDBRecord {
  return streamRecord('INSERT', outboxImage(aggregateId, version, payload));
}

export function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

/** The event id stored in a record's outbox image. */
export function eventIdOf(record: DynamoDBRecord): string {
  return record.dynamodb?.NewImage?.eventId?.S ?? '';
}
