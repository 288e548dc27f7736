import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { BatchGetCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { OutboxItem } from '../envelope/outbox-item.js';
import { RelayDefaults } from './options.js';
import { publishRecords } from './publisher.js';
import { type ReplayableTable, replayableTable } from './replay-table.js';
import { classifyRecord, type PoisonRecord, type PublishableRecord } from './stream-records.js';

export interface ReplayFilter {
  readonly aggregateType?: string;
  readonly aggregateId?: string;
  readonly tenantId?: string;
  readonly eventType?: string;
}

export interface OutboxReplayOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly eventBridge: EventBridgeClient;
  readonly eventBusName: string;
  /** Events committed at or after this time (to the millisecond). */
  readonly since: Date;
  /** ... and before this time (an event at its very millisecond is left out). */
  readonly until: Date;
  readonly filter?: ReplayFilter;
  /** Find and count, publish nothing. */
  readonly dryRun?: boolean;
  /** Called as items are found and as events are published. */
  readonly onProgress?: (progress: { readonly found: number; readonly published: number }) => void;
}

export interface OutboxReplayResult {
  /** Outbox items in the window that pass the filter. */
  readonly found: number;
  readonly published: number;
  /** Items that can never be published as they are, with the reason. */
  readonly unpublishable: ReadonlyArray<{ readonly eventId?: string; readonly reason: string }>;
  /**
   * Events not published (EventBridge kept refusing, or DynamoDB left their items unread
   * after every retry): run the replay again for them.
   */
  readonly failed: number;
  /** Of those, items DynamoDB left unprocessed after every retry of BatchGetItem. */
  readonly unread: number;
  readonly eventIds: readonly string[];
}

function keyOf(table: ReplayableTable, item: Record<string, unknown>): Record<string, string> {
  return {
    [table.partitionKey]: String(item[table.partitionKey]),
    [table.sortKey]: String(item[table.sortKey]),
  };
}

/** Every index partition of the window: each hour, each shard. */
function buckets(since: Date, until: Date): string[] {
  const hours: string[] = [];
  const hour = new Date(since);
  hour.setUTCMinutes(0, 0, 0);
  for (; hour.getTime() <= until.getTime(); hour.setUTCHours(hour.getUTCHours() + 1))
    hours.push(hour.toISOString().slice(0, 13));
  return hours.flatMap((h) => Array.from({ length: OutboxItem.buckets }, (_, i) => `${h}#${i}`));
}

/**
 * When the newest outbox item of the last `hours` was committed, from the by-time index
 * (one item read per shard and hour, newest first); undefined when there is none.
 */
export async function newestOutboxTime(
  client: DynamoDBDocumentClient,
  tableName: string,
  now = new Date(),
  hours = 2,
): Promise<Date | undefined> {
  let newest: string | undefined;
  for (const bucket of buckets(new Date(now.getTime() - hours * 3_600_000), now)) {
    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: OutboxItem.byTimeIndex,
        KeyConditionExpression: '#b = :b',
        ExpressionAttributeNames: { '#b': OutboxItem.bucketAttribute },
        ExpressionAttributeValues: { ':b': bucket },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const time = Items[0]?.[OutboxItem.timeAttribute];
    if (typeof time === 'string' && (newest === undefined || time > newest)) newest = time;
  }
  return newest === undefined ? undefined : new Date(newest.split('#')[0] as string);
}

/** The keys of the window's outbox items that pass the filter, from the sparse index. */
async function findKeys(
  options: OutboxReplayOptions,
  table: ReplayableTable,
): Promise<Array<Record<string, string>>> {
  const { filter = {} } = options;
  const conditions = Object.entries({
    aggregateType: filter.aggregateType,
    aggregateId: filter.aggregateId,
    tenantId: filter.tenantId,
    eventType: filter.eventType,
  }).filter(([, v]) => v !== undefined);
  const keys: Array<Record<string, string>> = [];
  for (const bucket of buckets(options.since, options.until)) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await options.client.send(
        new QueryCommand({
          TableName: options.tableName,
          IndexName: OutboxItem.byTimeIndex,
          KeyConditionExpression: '#b = :b AND #t BETWEEN :since AND :until',
          ...(conditions.length > 0
            ? { FilterExpression: conditions.map(([name]) => `#${name} = :${name}`).join(' AND ') }
            : {}),
          ExpressionAttributeNames: {
            '#b': OutboxItem.bucketAttribute,
            '#t': OutboxItem.timeAttribute,
            ...Object.fromEntries(conditions.map(([name]) => [`#${name}`, name])),
          },
          ExpressionAttributeValues: {
            ':b': bucket,
            ':since': options.since.toISOString(),
            // Before `until`: an item at its very millisecond sorts after it ("<time>#<id>").
            ':until': options.until.toISOString(),
            ...Object.fromEntries(conditions.map(([name, value]) => [`:${name}`, value])),
          },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) keys.push(keyOf(table, item));
      start = page.LastEvaluatedKey;
      options.onProgress?.({ found: keys.length, published: 0 });
    } while (start);
  }
  return keys;
}

/**
 * The items themselves, 100 keys a call, retrying what DynamoDB leaves unprocessed; the
 * keys still unprocessed after the retries are counted, never dropped.
 */
async function getItems(
  options: OutboxReplayOptions,
  keys: ReadonlyArray<Record<string, string>>,
): Promise<{ items: Array<Record<string, unknown>>; unread: number }> {
  const items: Array<Record<string, unknown>> = [];
  let unread = 0;
  for (let i = 0; i < keys.length; i += 100) {
    let request: Array<Record<string, unknown>> = keys.slice(i, i + 100);
    for (let attempt = 0; request.length > 0 && attempt < 8; attempt++) {
      const { Responses, UnprocessedKeys } = await options.client.send(
        new BatchGetCommand({
          RequestItems: { [options.tableName]: { Keys: request, ConsistentRead: true } },
        }),
      );
      items.push(...(Responses?.[options.tableName] ?? []));
      request = UnprocessedKeys?.[options.tableName]?.Keys ?? [];
      if (request.length > 0 && attempt < 7)
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
    unread += request.length;
  }
  return { items, unread };
}

/**
 * Items in time order, except that each aggregate's events take the places its events
 * hold in version order: producers' clocks may disagree, versions do not.
 */
export function inReplayOrder<T extends Record<string, unknown>>(found: readonly T[]): T[] {
  const byTime = [...found].sort((a, b) =>
    String(a[OutboxItem.timeAttribute]).localeCompare(String(b[OutboxItem.timeAttribute])),
  );
  const aggregateOf = (item: T) => `${String(item.aggregateType)}#${String(item.aggregateId)}`;
  const places = new Map<string, number[]>();
  byTime.forEach((item, index) => {
    const key = aggregateOf(item);
    const held = places.get(key);
    if (held) held.push(index);
    else places.set(key, [index]);
  });
  const ordered: T[] = new Array(byTime.length);
  for (const indexes of places.values()) {
    const versions = indexes
      .map((i) => byTime[i] as T)
      .sort((a, b) => Number(a.aggregateVersion) - Number(b.aggregateVersion));
    indexes.forEach((place, n) => {
      ordered[place] = versions[n] as T;
    });
  }
  return ordered;
}

/**
 * Publishes again, from the table itself, the outbox items committed in a time window: the
 * recovery for a relay that stopped for longer than the stream keeps records (24 hours),
 * and a way to send one aggregate's or tenant's events again. Finds them through the
 * sparse `outboxByTime` index (no scan), publishes each aggregate's events in version
 * order with the relay's own publisher (batches of 10, retries, order per aggregate).
 * Consumers absorb the events they had already applied as duplicates, as long as their
 * inbox records still remember them. Throws `ReplayTableError` for a table without an
 * active `outboxByTime` index, before anything is published.
 */
export async function replayOutbox(options: OutboxReplayOptions): Promise<OutboxReplayResult> {
  const table = await replayableTable(options.client, options.tableName);
  const keys = await findKeys(options, table);
  const read = await getItems(options, keys);
  const items = inReplayOrder(read.items);
  const { unread } = read;
  const publishable: PublishableRecord[] = [];
  const poison: PoisonRecord[] = [];
  items.forEach((item, index) => {
    const record: DynamoDBRecord = {
      eventName: 'INSERT',
      dynamodb: {
        Keys: marshall(keyOf(table, item)) as Record<string, AttributeValue> as never,
        NewImage: marshall(item, { removeUndefinedValues: true }) as never,
        SequenceNumber: String(index),
      },
    };
    const classified = classifyRecord(record, index, {
      eventBusName: options.eventBusName,
      maxEntryBytes: RelayDefaults.maxEntryBytes,
    });
    if (classified.kind === 'publishable') publishable.push(classified);
    else if (classified.kind === 'poison') poison.push(classified);
  });
  const unpublishable = poison.map((p) => ({
    ...(p.eventId ? { eventId: p.eventId } : {}),
    reason: p.reason,
  }));
  if (options.dryRun || publishable.length === 0) {
    return {
      found: items.length + unread,
      published: 0,
      unpublishable,
      failed: unread,
      unread,
      eventIds: publishable.map((p) => p.eventId),
    };
  }
  let published = 0;
  const outcome = await publishRecords(publishable, [], {
    ...operatorPublishing(options.eventBridge),
    // Nothing is dead-lettered by a replay: what EventBridge rejects is reported instead.
    deadLetter: async (letters) => {
      for (const letter of letters)
        unpublishable.push({
          ...(letter.record.eventId ? { eventId: letter.record.eventId } : {}),
          reason: letter.reason,
        });
      return letters.map(() => true);
    },
    observer: {
      onPublished: (records) => {
        published += records.length;
        options.onProgress?.({ found: items.length, published });
      },
    },
  });
  return {
    found: items.length + unread,
    published: outcome.published,
    unpublishable,
    failed: publishable.length - outcome.published - outcome.deadLettered + unread,
    unread,
    eventIds: publishable.map((p) => p.eventId),
  };
}

/** Attempts per entry of an operator's command: more than the relay's 6, as below. */
export const OPERATOR_PUBLISH_ATTEMPTS = 10;

/**
 * How an operator's command publishes (a replay, a redrive): the relay's defaults, with no
 * Lambda deadline to keep to, and more attempts per entry: the relay's stream retries what
 * it gave up on, but an entry a command gives up on waits for the operator to run it again.
 */
export function operatorPublishing(eventBridge: EventBridgeClient) {
  return {
    eventBridge,
    concurrency: RelayDefaults.concurrency,
    maxEntryBytes: RelayDefaults.maxEntryBytes,
    maxAttempts: OPERATOR_PUBLISH_ATTEMPTS,
    backoff: RelayDefaults.backoff,
    safetyMarginMs: 0,
    remainingMs: () => Number.POSITIVE_INFINITY,
  };
}
