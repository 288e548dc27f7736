import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../../envelope/envelope.js';
import type { TableLayout } from '../../transaction/actions.js';
import { type PlannedAction, planCreate } from '../../transaction/planners.js';
import { INBOX_ACTION, InboxItem, inboxItem, inboxKey } from './format.js';
import { acquireLock, type Lock, type LockResult, planCompletion, releaseLock } from './lock.js';
import { countNotYet, forgetNotYet, type NotYetWait } from './not-yet-count.js';
import { readInboxRecords } from './seen.js';

/**
 * The one seam between a consumer and its inbox's records on the table: the format
 * (`format.ts`: one record per consumer and event, `INBOX#<consumer>#<event id>` / `INBOX`,
 * with the "not yet" counter `NOTYET` beside it in the same partition), and every read and
 * write of it. Nothing else in the consumer names a key, an attribute or a status.
 */
export class InboxStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #layout: TableLayout;
  readonly #consumerName: string;
  readonly #ttl: { readonly ttlSeconds: number; readonly ttlAttribute: string };

  constructor(
    client: DynamoDBDocumentClient,
    layout: TableLayout,
    consumerName: string,
    ttl: { readonly ttlSeconds: number; readonly ttlAttribute: string },
  ) {
    this.#client = client;
    this.#layout = layout;
    this.#consumerName = consumerName;
    this.#ttl = ttl;
  }

  /** A consistent read: whether the event's record exists (handled, or being handled). */
  async exists(eventId: string): Promise<boolean> {
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#layout.tableName,
        Key: this.#key(eventId),
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  /**
   * Which of these events have a record, read for a whole batch at once; an event left
   * out (unprocessed by DynamoDB) reads its own.
   */
  async existing(eventIds: readonly string[]): Promise<Map<string, boolean>> {
    const byPartition = await readInboxRecords(
      this.#client,
      this.#layout,
      eventIds.map((id) => this.#key(id)),
    );
    const found = new Map<string, boolean>();
    for (const id of eventIds) {
      const exists = byPartition.get(this.partition(id));
      if (exists !== undefined) found.set(id, exists);
    }
    return found;
  }

  /** The completed record, created with the handler's writes: a second one cancels the commit. */
  planRecord(event: EventEnvelope, now: Date): PlannedAction {
    const item = inboxItem(
      this.#layout,
      this.#consumerName,
      event,
      { now, ...this.#ttl },
      InboxItem.status.completed,
    );
    return planCreate(this.#layout, INBOX_ACTION, item, { eventId: event.id });
  }

  /** Lock-then-complete: the in-progress record, unless a live lock or a completed record is there. */
  lock(event: EventEnvelope, now: Date, lockTtlSeconds: number): Promise<LockResult> {
    const item = inboxItem(
      this.#layout,
      this.#consumerName,
      event,
      { now, ...this.#ttl },
      InboxItem.status.inProgress,
    );
    return acquireLock(
      this.#client,
      this.#layout,
      item,
      this.#key(event.id),
      lockTtlSeconds,
      now.getTime(),
    );
  }

  /** The completion of the record this lock holds, committed with the handler's writes. */
  planCompletion(lock: Lock, now: Date): PlannedAction {
    return planCompletion(this.#layout, lock, now);
  }

  /** Gives the lock back, so the next delivery need not wait for it to expire. */
  release(lock: Lock): Promise<void> {
    return releaseLock(this.#client, this.#layout, lock);
  }

  /** Counts one more "not yet" for the event: how long it has waited. */
  countNotYet(eventId: string, now: Date): Promise<NotYetWait> {
    return countNotYet(this.#client, this.#layout, this.partition(eventId), { now, ...this.#ttl });
  }

  /** Forgets the event's "not yet" answers (it was dead-lettered): a redrive waits afresh. */
  forgetNotYet(eventId: string): Promise<void> {
    return forgetNotYet(this.#client, this.#layout, this.partition(eventId));
  }

  /** The partition of the event's record, which its "not yet" counter shares. */
  partition(eventId: string): string {
    return this.#key(eventId)[this.#layout.partitionKey] as string;
  }

  #key(eventId: string): Record<string, string> {
    return inboxKey(this.#layout, this.#consumerName, eventId);
  }
}

export type { Lock, LockResult, NotYetWait };
export { INBOX_ACTION };
