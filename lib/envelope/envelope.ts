/** Identifies the aggregate (entity) an event belongs to, and the version the event produced. */
export interface AggregateRef {
  /** Aggregate type, e.g. `Order`. Must not contain `#`. */
  readonly type: string;
  /** Aggregate id, unique within its type. */
  readonly id: string;
  /** The aggregate's version after the change this event describes; starts at 1. */
  readonly version: number;
}

/**
 * The event as it travels: the EventBridge `detail`. `type` becomes the `detail-type`
 * and `source` the `source` of the bus event.
 */
export interface EventEnvelope<TPayload = unknown> {
  /** Unique and sortable by creation time (a ULID). Consumers deduplicate on it. */
  readonly id: string;
  readonly type: string;
  readonly source: string;
  /** ISO 8601 timestamp of the transaction that produced the event. */
  readonly time: string;
  readonly aggregate: AggregateRef;
  readonly tenantId?: string;
  /** Shared by every event of one business flow. */
  readonly correlationId?: string;
  /** The id of the event (or command) that caused this one. */
  readonly causationId?: string;
  /** Version of the payload's schema for this `type`. @default 1 */
  readonly schemaVersion: number;
  /** Media type of the payload. @default 'application/json' */
  readonly contentType: string;
  readonly payload: TPayload;
}

/** What a producer supplies; the box fills in `id`, `source`, `time` and the defaults. */
export interface EventInput<TPayload = unknown> {
  readonly type: string;
  readonly aggregate: AggregateRef;
  readonly payload: TPayload;
  readonly tenantId?: string;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly schemaVersion?: number;
  readonly contentType?: string;
}

export const EnvelopeDefaults = {
  schemaVersion: 1,
  contentType: 'application/json',
} as const;
