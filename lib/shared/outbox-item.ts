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
} as const;

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
}
