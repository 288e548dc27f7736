import type { EventEnvelope } from '../../envelope/envelope.js';
import type { Item, TableLayout } from '../../transaction/actions.js';

/**
 * The inbox record: one per (consumer, event id). Keyed on both so that records spread
 * over partitions instead of piling up on one per consumer.
 */
export const InboxItem = {
  markerValue: 'inbox',
  partitionPrefix: 'INBOX#',
  sortKey: 'INBOX',
  /** Inbox records expire after this many seconds by default (7 days). */
  defaultTtlSeconds: 7 * 24 * 60 * 60,
  status: { completed: 'COMPLETED', inProgress: 'IN_PROGRESS' },
} as const;

/** The kind of the inbox record's action in a transaction, as its failures report it. */
export const INBOX_ACTION = 'inbox';

export function inboxKey(
  layout: TableLayout,
  consumerName: string,
  eventId: string,
): Record<string, string> {
  return {
    [layout.partitionKey]: `${InboxItem.partitionPrefix}${consumerName}#${eventId}`,
    [layout.sortKey]: InboxItem.sortKey,
  };
}

export function inboxItem(
  layout: TableLayout,
  consumerName: string,
  event: EventEnvelope,
  settings: { readonly now: Date; readonly ttlSeconds: number; readonly ttlAttribute: string },
  status: (typeof InboxItem.status)[keyof typeof InboxItem.status],
): Item {
  return {
    ...inboxKey(layout, consumerName, event.id),
    _eventbox: InboxItem.markerValue,
    consumer: consumerName,
    eventId: event.id,
    eventType: event.type,
    aggregateType: event.aggregate.type,
    aggregateId: event.aggregate.id,
    aggregateVersion: event.aggregate.version,
    status,
    processedAt: settings.now.toISOString(),
    [settings.ttlAttribute]: Math.floor(settings.now.getTime() / 1000) + settings.ttlSeconds,
  };
}
