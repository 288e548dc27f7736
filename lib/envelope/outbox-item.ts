import type { EventEnvelope } from './envelope.js';

/**
 * The shape of an outbox item, shared by the producer (which writes it) and the relay
 * (which reads it from the stream). One aggregate's events share a partition and sort
 * by version, so the table's stream delivers them in order.
 */
export const OutboxItem = {
  /** Attribute that marks an item as Eventbox's; the stream filter selects on it. */
  markerAttribute: '_eventbox',
  markerValue: 'outbox',
  partitionPrefix: 'OUTBOX#',
  /** Outbox items expire after this many seconds by default (7 days). */
  defaultTtlSeconds: 7 * 24 * 60 * 60,
  defaultTtlAttribute: 'ttl',
  /**
   * The sparse index that finds outbox items by time without a scan (what `outbox replay`
   * reads): partition `outboxBucket` = the hour and a shard of the aggregate, so one hour's
   * writes spread over `buckets` index partitions; sort `outboxTime` = time and event id.
   */
  byTimeIndex: 'outboxByTime',
  bucketAttribute: 'outboxBucket',
  timeAttribute: 'outboxTime',
  buckets: 8,
} as const;

/** The index partition of an outbox item: its hour, and a shard of its aggregate. */
export function outboxBucket(time: string, aggregateType: string, aggregateId: string): string {
  let hash = 0;
  for (const char of `${aggregateType}#${aggregateId}`) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return `${time.slice(0, 13)}#${Math.abs(hash) % OutboxItem.buckets}`;
}

const VERSION_DIGITS = 16;
const INDEX_DIGITS = 3;

export function outboxPartitionKey(aggregateType: string, aggregateId: string): string {
  return `${OutboxItem.partitionPrefix}${aggregateType}#${aggregateId}`;
}

/**
 * Zero-padded so that string order is version order; `index` separates several events
 * published for the same aggregate version in one transaction.
 */
export function outboxSortKey(version: number, index: number): string {
  return `${String(version).padStart(VERSION_DIGITS, '0')}#${String(index).padStart(INDEX_DIGITS, '0')}`;
}

/** Attributes of an outbox item besides the table's keys and TTL. */
export interface OutboxAttributes {
  readonly _eventbox: typeof OutboxItem.markerValue;
  readonly eventId: string;
  readonly eventType: string;
  readonly source: string;
  readonly time: string;
  readonly aggregateType: string;
  readonly aggregateId: string;
  readonly aggregateVersion: number;
  readonly tenantId?: string;
  /** The X-Ray trace header of the producing invocation, passed on to PutEvents. */
  readonly traceHeader?: string;
  /** The envelope as JSON: published as the EventBridge `detail` exactly as stored. */
  readonly detail: string;
  /** Keys of the `outboxByTime` index. */
  readonly outboxBucket: string;
  readonly outboxTime: string;
}

/** Everything an outbox item is made of. */
export interface OutboxItemInput {
  readonly envelope: EventEnvelope;
  /** The envelope as JSON, exactly as it will be published. */
  readonly detail: string;
  readonly keys: { readonly partitionKey: string; readonly sortKey: string };
  /** Separates several events of one aggregate version in one transaction. @default 0 */
  readonly index?: number;
  readonly ttl: { readonly attribute: string; readonly seconds: number };
  readonly now: Date;
  readonly traceHeader?: string;
}

/** The outbox item the relay publishes: what the producer writes and test builders copy. */
export function outboxItem(input: OutboxItemInput): Record<string, unknown> {
  const { envelope, keys } = input;
  const { aggregate } = envelope;
  const attributes: OutboxAttributes = {
    _eventbox: OutboxItem.markerValue,
    eventId: envelope.id,
    eventType: envelope.type,
    source: envelope.source,
    time: envelope.time,
    aggregateType: aggregate.type,
    aggregateId: aggregate.id,
    aggregateVersion: aggregate.version,
    ...(envelope.tenantId === undefined ? {} : { tenantId: envelope.tenantId }),
    ...(input.traceHeader ? { traceHeader: input.traceHeader } : {}),
    detail: input.detail,
    outboxBucket: outboxBucket(envelope.time, aggregate.type, aggregate.id),
    outboxTime: `${envelope.time}#${envelope.id}`,
  };
  return {
    [keys.partitionKey]: outboxPartitionKey(aggregate.type, aggregate.id),
    [keys.sortKey]: outboxSortKey(aggregate.version, input.index ?? 0),
    ...attributes,
    [input.ttl.attribute]: Math.floor(input.now.getTime() / 1000) + input.ttl.seconds,
  };
}
