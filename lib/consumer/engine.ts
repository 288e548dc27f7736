import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EventEnvelope } from '../envelope/envelope.js';
import { visibilityDelaySeconds } from '../shared/backoff.js';
import { isConditionFailure } from '../shared/condition-failure.js';
import { documentClient } from '../shared/dynamodb-client.js';
import { Limits } from '../shared/limits.js';
import { validateOptions } from '../shared/validate-options.js';
import type { Item, Key, TableLayout } from '../transaction/actions.js';
import {
  AlreadyExistsError,
  OutboxDisabledError,
  TransactionCanceledError,
  TransactionConflictError,
  VersionConflictError,
} from '../transaction/errors.js';
import { planCreate } from '../transaction/planners.js';
import type { TransactionSettings } from '../transaction/transaction.js';
import { ConsumerTransaction } from './consumer-transaction.js';
import { EventLockedError, InvalidMessageError, NotYetError } from './errors.js';
import { InboxItem, inboxItem, inboxKey } from './inbox-item.js';
import { acquireLock, type Lock, planCompletion, releaseLock } from './lock.js';
import { envelopeOf, type InboxMessage } from './messages.js';
import { countNotYet, forgetNotYet, type NotYetWait, notYetBudgetSpent } from './not-yet-count.js';
import { InboxDefaults, InboxMode, type InboxOptions, inboxOptionsSchema } from './options.js';
import { validatePayload } from './schemas.js';
import { readInboxRecords } from './seen.js';
import { synchronizeKind } from './synchronize.js';

/** What a handler gets besides the event. */
export interface InboxContext {
  /** The unit of work, committed with the inbox record after the handler returns. */
  readonly tx: ConsumerTransaction;
  readonly consumerName: string;
  /** 1 on the first delivery of this message, then 2, 3, ... */
  readonly attempt: number;
  readonly messageId: string;
  /** For reads; writes go through `tx`. */
  readonly client: DynamoDBDocumentClient;
  readonly logger: Logger;
  /**
   * A consistent read of one item of the consumer's table (or `tableName`). Type the item
   * you expect: `await ctx.get<Stock>(key)`; nothing checks it at run time.
   */
  get<TItem extends Item = Item>(
    key: Key,
    options?: { readonly tableName?: string },
  ): Promise<TItem | undefined>;
  /** Ends the handler: a causal predecessor is missing; the message returns later. */
  notYet(reason: string): never;
}

/**
 * A handler of one event, typed by its event: any envelope, or the union `EventOf` builds
 * from payload schemas.
 */
export type InboxEventHandler<TEvent> = (
  event: TEvent,
  context: InboxContext,
) => Promise<void> | void;

export type InboxHandler<TPayload = unknown> = (
  event: EventEnvelope<TPayload>,
  context: InboxContext,
) => Promise<void> | void;

/** How handling one message ended; the adapters turn this into an SQS answer. */
export type Outcome =
  | {
      readonly status: 'handled';
      readonly event: EventEnvelope;
      readonly staleSkipped: number;
      readonly published: readonly EventEnvelope[];
    }
  | { readonly status: 'duplicate'; readonly event: EventEnvelope }
  | {
      readonly status: 'retry';
      /**
       * What comes back: a "not yet", a lock wait, a lost race, or (jobs) a failed step or
       * task, or a copy of a job message waiting for an attempt held elsewhere or a backoff.
       */
      readonly kind: 'not-yet' | 'locked' | 'conflict' | 'step' | 'task' | 'waiting';
      readonly event: EventEnvelope;
      readonly reason: string;
      readonly delaySeconds: number;
    }
  | { readonly status: 'dead-letter'; readonly event?: EventEnvelope; readonly reason: string }
  | { readonly status: 'failed'; readonly event?: EventEnvelope; readonly error: unknown };

/** What a batch learnt of a message before handling it: its envelope, and whether its inbox record exists. */
export interface Prefetched {
  readonly prepared: { event: EventEnvelope } | { outcome: Outcome };
  /** Undefined when unknown: the message reads its inbox record on its own. */
  readonly seen?: boolean;
}

/** An event being handled: its transaction, and in lock mode the lock it holds. */
export interface Attempt {
  readonly message: InboxMessage;
  readonly event: EventEnvelope;
  readonly tx: ConsumerTransaction;
  readonly lock?: Lock;
}

/**
 * The one engine behind `withInbox` and the `inbox` middleware: validates a message,
 * deduplicates it, opens the transaction the handler writes into, commits it with the
 * inbox record (skipping stale snapshots) and decides what happens to the message.
 */
export class InboxEngine {
  readonly consumerName: string;
  readonly client: DynamoDBDocumentClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly options: InboxOptions;
  readonly #layout: TableLayout;
  readonly #settings: TransactionSettings;

  constructor(options: InboxOptions) {
    validateOptions(inboxOptionsSchema, options, 'inbox options');
    this.options = options;
    this.consumerName = options.consumerName;
    this.client = documentClient(options);
    this.logger = options.logger ?? new Logger({ serviceName: options.consumerName });
    this.metrics =
      options.metrics ??
      new Metrics({ namespace: InboxDefaults.metricsNamespace, serviceName: options.consumerName });
    this.#layout = {
      tableName: options.tableName,
      partitionKey: options.keys?.partitionKey ?? 'pk',
      sortKey: options.keys?.sortKey ?? 'sk',
      versionAttribute: options.versionAttribute ?? 'version',
    };
    const outbox = options.outbox === false ? undefined : options.outbox;
    this.#settings = {
      client: this.client,
      layout: this.#layout,
      outbox: {
        layout: { ...this.#layout, tableName: outbox?.tableName ?? options.tableName },
        ttlSeconds: outbox?.ttlSeconds ?? InboxDefaults.inboxTtlSeconds,
        ...(options.outbox === false
          ? {
              disabledReason: `no relay reads the table of consumer ${options.consumerName}, so the event would never leave it; give its EventBoxConsumer publishTo (an EventBox or a bus)`,
            }
          : {}),
        ttlAttribute: options.ttlAttribute ?? InboxDefaults.ttlAttribute,
      },
      source: options.source ?? options.consumerName,
      maxEventBytes: Limits.maxEventBytes,
      now: () => new Date(),
    };
  }

  /** The validated envelope of a message, or the outcome for a message that can never be handled. */
  async prepare(message: InboxMessage): Promise<{ event: EventEnvelope } | { outcome: Outcome }> {
    try {
      const envelope = envelopeOf(message);
      const { tenantIds } = this.options;
      if (tenantIds && !tenantIds.includes(envelope.tenantId ?? '')) {
        throw new InvalidMessageError(
          `wrong tenant: ${envelope.tenantId === undefined ? 'the event has no tenantId' : `"${envelope.tenantId}"`}; this consumer accepts ${tenantIds.map((t) => `"${t}"`).join(', ')}`,
        );
      }
      const strict = (this.options.unknownEventTypes ?? 'dead-letter') === 'dead-letter';
      return { event: await validatePayload(envelope, this.options.schemas, strict) };
    } catch (error) {
      if (error instanceof InvalidMessageError)
        return { outcome: { status: 'dead-letter', reason: error.message } };
      return { outcome: { status: 'failed', error } };
    }
  }

  /**
   * Prepares every message of a batch and reads their inbox records in one BatchGetItem,
   * instead of a GetItem each. If that read fails, each message reads its own.
   */
  async prefetch(messages: readonly InboxMessage[]): Promise<Map<string, Prefetched>> {
    const prepared = await Promise.all(messages.map((m) => this.prepare(m)));
    const transactional = (this.options.mode ?? InboxDefaults.mode) === InboxMode.transaction;
    const keyOf = (p: Prefetched['prepared']) =>
      'event' in p ? inboxKey(this.#layout, this.consumerName, p.event.id) : undefined;
    const keys = prepared.map(keyOf);
    const partitionOf = (key: Record<string, string>) => key[this.#layout.partitionKey] ?? '';
    const known = keys.filter((k) => k !== undefined);
    let seen = new Map<string, boolean>();
    if (transactional && known.length > 1) {
      try {
        seen = await readInboxRecords(this.client, this.#layout, known);
      } catch (error) {
        this.logger.warn('batch read of inbox records failed; each message reads its own', {
          error,
        });
      }
    }
    return new Map(
      messages.map((message, i) => {
        const p = prepared[i] as Prefetched['prepared'];
        const key = keys[i];
        const exists = key ? seen.get(partitionOf(key)) : undefined;
        return [
          message.messageId,
          exists === undefined ? { prepared: p } : { prepared: p, seen: exists },
        ];
      }),
    );
  }

  /**
   * Opens the attempt, or says why the handler must not run (duplicate, locked). `seen`
   * is what a batch read found of the inbox record, if it ran.
   */
  async begin(
    message: InboxMessage,
    event: EventEnvelope,
    seen?: boolean,
  ): Promise<{ attempt: Attempt } | { outcome: Outcome }> {
    const now = new Date();
    const key = inboxKey(this.#layout, this.consumerName, event.id);
    const ttl = this.#ttl(now);
    if ((this.options.mode ?? InboxDefaults.mode) === InboxMode.lockThenComplete) {
      const lockTtl = this.options.lockTtlSeconds ?? InboxDefaults.lockTtlSeconds;
      const item = inboxItem(
        this.#layout,
        this.consumerName,
        event,
        ttl,
        InboxItem.status.inProgress,
      );
      const result = await acquireLock(
        this.client,
        this.#layout,
        item,
        key,
        lockTtl,
        now.getTime(),
      );
      if ('completed' in result) return { outcome: { status: 'duplicate', event } };
      if ('heldUntil' in result) {
        const error = new EventLockedError(event.id, result.heldUntil);
        const delaySeconds = Math.max(1, Math.ceil((result.heldUntil - now.getTime()) / 1000));
        return {
          outcome: { status: 'retry', kind: 'locked', event, reason: error.message, delaySeconds },
        };
      }
      const tx = new ConsumerTransaction(
        this.#settings,
        planCompletion(this.#layout, result.acquired, now),
        event,
      );
      return { attempt: { message, event, tx, lock: result.acquired } };
    }
    // A cheap read first (the batch's, or one of its own), so a duplicate does not run the
    // handler; the transaction's condition on the inbox record is what guarantees it.
    const exists =
      seen ??
      (
        await this.client.send(
          new GetCommand({ TableName: this.#layout.tableName, Key: key, ConsistentRead: true }),
        )
      ).Item !== undefined;
    if (exists) return { outcome: { status: 'duplicate', event } };
    const item = inboxItem(this.#layout, this.consumerName, event, ttl, InboxItem.status.completed);
    const tx = new ConsumerTransaction(
      this.#settings,
      planCreate(this.#layout, 'inbox', item, { eventId: event.id }),
      event,
    );
    return { attempt: { message, event, tx } };
  }

  /** The handler's second argument. */
  context(attempt: Attempt): InboxContext {
    const { client, logger, consumerName } = this;
    const layout = this.#layout;
    return {
      tx: attempt.tx,
      consumerName,
      attempt: attempt.message.receiveCount,
      messageId: attempt.message.messageId,
      client,
      logger,
      async get<TItem extends Item = Item>(
        key: Key,
        options: { readonly tableName?: string } = {},
      ): Promise<TItem | undefined> {
        const { Item } = await client.send(
          new GetCommand({
            TableName: options.tableName ?? layout.tableName,
            Key: key,
            ConsistentRead: true,
          }),
        );
        return Item as TItem | undefined;
      },
      notYet(reason: string): never {
        throw new NotYetError(reason);
      },
    };
  }

  /**
   * Commits the handler's writes with the inbox record. A duplicate cancels on the inbox
   * record alone; snapshots that turned out stale are dropped and the rest commits.
   */
  async complete(attempt: Attempt): Promise<Outcome> {
    const sole = this.options.synchronizeWithoutInbox ? attempt.tx.soleSynchronize() : undefined;
    if (sole && !attempt.lock) return this.#synchronizeAlone(attempt, sole);
    let tx = attempt.tx;
    let staleSkipped = 0;
    for (;;) {
      try {
        const { events } = await tx.commit();
        return { status: 'handled', event: attempt.event, staleSkipped, published: events };
      } catch (error) {
        if (!(error instanceof TransactionCanceledError)) return this.fail(attempt, error);
        const failed = error.failures;
        if (failed.some((f) => f.action.kind === 'inbox' && f.code === 'ConditionalCheckFailed')) {
          if (attempt.lock)
            return this.fail(
              attempt,
              new Error('the lock expired and another delivery took the event over'),
            );
          return { status: 'duplicate', event: attempt.event };
        }
        const stale = failed.filter(
          (f) => f.action.kind === synchronizeKind && f.code === 'ConditionalCheckFailed',
        );
        // A stale snapshot is skipped by design; whatever else failed shows on the retry without it.
        if (stale.length === 0) return this.fail(attempt, error);
        staleSkipped += stale.length;
        tx = tx.without(new Set(stale.map((f) => f.action.index)));
      }
    }
  }

  /**
   * The one conditional write of a handler whose only write is a synchronize, with no inbox
   * record: the snapshot's version deduplicates, so a duplicate is a stale snapshot.
   */
  async #synchronizeAlone(
    attempt: Attempt,
    write: NonNullable<ReturnType<ConsumerTransaction['soleSynchronize']>>,
  ): Promise<Outcome> {
    const handled = (staleSkipped: number): Outcome => ({
      status: 'handled',
      event: attempt.event,
      staleSkipped,
      published: [],
    });
    try {
      if (write.Put) await this.client.send(new PutCommand(write.Put));
      else if (write.Update) await this.client.send(new UpdateCommand(write.Update));
      return handled(0);
    } catch (error) {
      if (isConditionFailure(error)) return handled(1);
      return this.fail(attempt, error);
    }
  }

  /** What a handler or commit error means for the message. */
  async fail(
    attempt: Attempt | { message: InboxMessage; event: EventEnvelope },
    error: unknown,
  ): Promise<Outcome> {
    if ('lock' in attempt && attempt.lock) {
      await releaseLock(this.client, this.#layout, attempt.lock).catch((e: unknown) =>
        this.logger.warn('could not release the lock; it expires on its own', {
          eventId: attempt.event.id,
          error: e,
        }),
      );
    }
    const { message, event } = attempt;
    if (error instanceof NotYetError) {
      const now = new Date();
      let wait: NotYetWait;
      const partition = this.#inboxPartition(event.id);
      try {
        wait = await countNotYet(this.client, this.#layout, partition, this.#ttl(now));
      } catch (countError) {
        return { status: 'failed', event, error: countError };
      }
      const spent = notYetBudgetSpent(wait, now, this.#notYetBudget());
      if (spent) {
        return { status: 'dead-letter', event, reason: `${error.message} (${spent})` };
      }
      return {
        status: 'retry',
        kind: 'not-yet',
        event,
        reason: error.reason,
        delaySeconds: this.backoffSeconds(wait.answers),
      };
    }
    // Another delivery changed the same entity first: reading again and retrying resolves it.
    if (
      error instanceof VersionConflictError ||
      error instanceof AlreadyExistsError ||
      error instanceof TransactionConflictError
    ) {
      return {
        status: 'retry',
        kind: 'conflict',
        event,
        reason: error.message,
        delaySeconds: this.backoffSeconds(message.receiveCount, 1),
      };
    }
    // Neither can succeed on a retry: the message goes where an operator sees its reason.
    if (error instanceof InvalidMessageError || error instanceof OutboxDisabledError)
      return { status: 'dead-letter', event, reason: error.message };
    return { status: 'failed', event, error };
  }

  /** Handles one message end to end: what `withInbox` does for each message of a batch. */
  async process<TEvent = EventEnvelope>(
    message: InboxMessage,
    handler: InboxEventHandler<TEvent>,
    prefetched?: Prefetched,
  ): Promise<Outcome> {
    const prepared = prefetched?.prepared ?? (await this.prepare(message));
    if ('outcome' in prepared) return prepared.outcome;
    let begun: Awaited<ReturnType<InboxEngine['begin']>>;
    try {
      begun = await this.begin(message, prepared.event, prefetched?.seen);
    } catch (error) {
      return this.fail({ message, event: prepared.event }, error);
    }
    if ('outcome' in begun) return begun.outcome;
    const { attempt } = begun;
    try {
      // The payload was validated against its schema in prepare(): the handler's type holds.
      await handler(attempt.event as TEvent, this.context(attempt));
    } catch (error) {
      return this.fail(attempt, error);
    }
    return this.complete(attempt);
  }

  /**
   * Forgets the event's "not yet" wait once it is dead-lettered, whatever the reason (its
   * budget spent, the queue's last delivery), so that a redrive gives it a whole budget
   * again. Should this fail, the item still expires with the inbox TTL.
   */
  async deadLettered(event: EventEnvelope): Promise<void> {
    await forgetNotYet(this.client, this.#layout, this.#inboxPartition(event.id)).catch(
      (e: unknown) =>
        this.logger.warn('could not reset the "not yet" wait of a dead-lettered event', {
          eventId: event.id,
          error: e,
        }),
    );
  }

  /** The partition of the event's inbox record, which its "not yet" item shares. */
  #inboxPartition(eventId: string): string {
    return inboxKey(this.#layout, this.consumerName, eventId)[this.#layout.partitionKey] as string;
  }

  #notYetBudget() {
    return {
      maxWaitSeconds: this.options.notYet?.maxWaitSeconds ?? InboxDefaults.notYetMaxWaitSeconds,
      maxAttempts: this.options.notYet?.maxAttempts,
    };
  }

  #ttl(now: Date) {
    return {
      now,
      ttlSeconds: this.options.inboxTtlSeconds ?? InboxDefaults.inboxTtlSeconds,
      ttlAttribute: this.options.ttlAttribute ?? InboxDefaults.ttlAttribute,
    };
  }

  /** Seconds to keep a message invisible before its next attempt: capped, jittered. */
  backoffSeconds(receiveCount: number, baseOverride?: number): number {
    return visibilityDelaySeconds(
      {
        baseSeconds:
          baseOverride ??
          this.options.notYet?.backoff?.baseSeconds ??
          InboxDefaults.notYetBackoff.baseSeconds,
        capSeconds:
          this.options.notYet?.backoff?.capSeconds ?? InboxDefaults.notYetBackoff.capSeconds,
      },
      receiveCount,
    );
  }
}
