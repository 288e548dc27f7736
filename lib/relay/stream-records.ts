import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { DynamoDBRecord } from 'aws-lambda';
import { parseEnvelope, putEventsEntrySize } from '../envelope/create.js';
import { OutboxItem } from '../envelope/outbox-item.js';

/** An outbox INSERT ready to become a PutEvents entry. */
export interface PublishableRecord {
  readonly kind: 'publishable';
  /** Position in the batch: the order the stream delivered it in. */
  readonly index: number;
  readonly sequenceNumber: string;
  readonly eventId: string;
  readonly eventType: string;
  /** Events of one aggregate are published one at a time, in batch order. */
  readonly aggregateKey: string;
  readonly entry: PutEventsRequestEntry;
  readonly bytes: number;
  readonly record: DynamoDBRecord;
}

/** An outbox record that can never be published as it is; it goes to the dead-letter queue. */
export interface PoisonRecord {
  readonly kind: 'poison';
  readonly index: number;
  readonly sequenceNumber: string;
  readonly eventId?: string;
  readonly reason: string;
  readonly record: DynamoDBRecord;
}

/** Anything else on the stream: MODIFY, REMOVE, entity items. */
export interface IgnoredRecord {
  readonly kind: 'ignored';
  readonly index: number;
}

export type ClassifiedRecord = PublishableRecord | PoisonRecord | IgnoredRecord;

type Image = Record<string, AttributeValue>;

function isOutboxKey(keys: Image | undefined): boolean {
  return Object.values(keys ?? {}).some((v) => v.S?.startsWith(OutboxItem.partitionPrefix));
}

/**
 * Selects outbox INSERTs and turns each into a PutEvents entry, whether or not the event
 * source mapping filters: anything that is not an outbox INSERT is ignored, and an outbox
 * INSERT that cannot be published is poison, with the reason.
 */
export function classifyRecord(
  record: DynamoDBRecord,
  index: number,
  context: { readonly eventBusName: string; readonly maxEntryBytes: number },
): ClassifiedRecord {
  const sequenceNumber = record.dynamodb?.SequenceNumber ?? '';
  if (record.eventName !== 'INSERT') return { kind: 'ignored', index };
  const newImage = record.dynamodb?.NewImage as Image | undefined;
  if (newImage === undefined) {
    return isOutboxKey(record.dynamodb?.Keys as Image | undefined)
      ? poison(
          'the stream record has no NewImage: the stream view type must be NEW_IMAGE or NEW_AND_OLD_IMAGES',
        )
      : { kind: 'ignored', index };
  }
  if (newImage[OutboxItem.markerAttribute]?.S !== OutboxItem.markerValue)
    return { kind: 'ignored', index };

  // Only three string attributes are read: unmarshalling the whole item cost more than
  // the rest of the record's classification.
  const eventId = newImage.eventId?.S;
  const detail = newImage.detail?.S;
  if (detail === undefined) return poison('the outbox item has no "detail" string', eventId);
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail);
  } catch (error) {
    return poison(`"detail" is not JSON: ${(error as Error).message}`, eventId);
  }
  let envelope: ReturnType<typeof parseEnvelope>;
  try {
    envelope = parseEnvelope(parsed);
  } catch (error) {
    return poison((error as Error).message, eventId);
  }
  const bytes = putEventsEntrySize(envelope, detail);
  if (bytes > context.maxEntryBytes) {
    return poison(
      `the PutEvents entry is ${bytes} bytes; the limit is ${context.maxEntryBytes}`,
      envelope.id,
    );
  }
  const traceHeader = newImage.traceHeader?.S;
  return {
    kind: 'publishable',
    index,
    sequenceNumber,
    eventId: envelope.id,
    eventType: envelope.type,
    aggregateKey: `${envelope.aggregate.type}#${envelope.aggregate.id}`,
    bytes,
    record,
    entry: {
      EventBusName: context.eventBusName,
      Source: envelope.source,
      DetailType: envelope.type,
      Detail: detail,
      Time: new Date(envelope.time),
      ...(traceHeader ? { TraceHeader: traceHeader } : {}),
    },
  };

  function poison(reason: string, id?: string): PoisonRecord {
    return {
      kind: 'poison',
      index,
      sequenceNumber,
      reason,
      record,
      ...(id ? { eventId: id } : {}),
    };
  }
}
