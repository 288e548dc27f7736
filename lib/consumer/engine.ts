import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { InboxMessage } from '../delivery/messages.js';
import { envelopeOf } from '../delivery/messages.js';
import type { Outcome } from '../delivery/outcome.js';
import type { EventEnvelope } from '../envelope/envelope.js';
import { visibilityDelaySeconds } from '../shared/backoff.js';
import { isConditionFailure } from '../shared/condition-failure.js';
import { documentClient } from '../shared/dynamodb-client.js';
import { Limits } from '../shared/limits.js';
import { validateOptions } from '../shared/validate-options.js';
import type { TableLayout } from '../transaction/actions.js';
import {
  AlreadyExistsError,
  OutboxDisabledError,
  TransactionCanceledError,
  TransactionConflictError,
  VersionConflictError,
} from '../transaction/errors.js';
import type { TransactionSettings } from '../transaction/transaction.js';
import type { ConsumerTransaction } from './consumer-transaction.js';
import { InvalidMessageError, NotYetError } from './errors.js';
import { notYetBudgetSpent } from './inbox/not-yet-count.js';
import { INBOX_ACTION, InboxStore, type NotYetWait } from './inbox/store.js';
import { type InboxContext, inboxContext } from './inbox-context.js';
import {
  type Attempt,
  type InboxStrategy,
  LockThenComplete,
  TransactionalInbox,
} from './inbox-modes.js';
import { InboxDefaults, InboxMode, type InboxOptions, inboxOptionsSchema } from './options.js';
import { ConsumerRetryKinds } from './retry-kinds.js';
import { validatePayload } from './schemas.js';
import { synchronizeKind } from './synchronize.js';

export type { InboxContext } from './inbox-context.js';

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

export type { Outcome } from '../delivery/outcome.js';

/** What a batch learnt of a message before handling it: its envelope, and whether its inbox record exists. */
export interface Prefetched {
  readonly prepared: { event: EventEnvelope } | { outcome: Outcome };
  /** Undefined when unknown: the message reads its inbox record on its own. */
  readonly seen?: boolean;
}

export type { Attempt } from './inbox-modes.js';

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
  readonly retryKinds = ConsumerRetryKinds;
  readonly #layout: TableLayout;
  readonly #inbox: InboxStore;
  readonly #strategy: InboxStrategy;

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
    const settings: TransactionSettings = {
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
    this.#inbox = new InboxStore(this.client, this.#layout, this.consumerName, {
      ttlSeconds: options.inboxTtlSeconds ?? InboxDefaults.inboxTtlSeconds,
      ttlAttribute: options.ttlAttribute ?? InboxDefaults.ttlAttribute,
    });
    this.#strategy =
      (options.mode ?? InboxDefaults.mode) === InboxMode.lockThenComplete
        ? new LockThenComplete(
            this.#inbox,
            settings,
            options.lockTtlSeconds ?? InboxDefaults.lockTtlSeconds,
            this.logger,
          )
        : new TransactionalInbox(this.#inbox, settings);
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
    const ids = prepared.flatMap((p) => ('event' in p ? [p.event.id] : []));
    let seen = new Map<string, boolean>();
    if (this.#strategy.prefetches && ids.length > 1) {
      try {
        seen = await this.#inbox.existing(ids);
      } catch (error) {
        this.logger.warn('batch read of inbox records failed; each message reads its own', {
          error,
        });
      }
    }
    return new Map(
      messages.map((message, i) => {
        const p = prepared[i] as Prefetched['prepared'];
        const exists = 'event' in p ? seen.get(p.event.id) : undefined;
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
    return this.#strategy.begin(message, event, seen, new Date());
  }

  /** The handler's second argument. */
  context(attempt: Attempt): InboxContext {
    return inboxContext(this, attempt, this.#layout.tableName);
  }

  /**
   * Commits the handler's writes with the inbox record. A duplicate cancels on the inbox
   * record alone; snapshots that turned out stale are dropped and the rest commits.
   */
  async complete(attempt: Attempt): Promise<Outcome> {
    const sole = this.options.synchronizeWithoutInbox ? attempt.tx.soleSynchronize() : undefined;
    if (sole && this.#strategy.synchronizesAlone) return this.#synchronizeAlone(attempt, sole);
    let tx = attempt.tx;
    let staleSkipped = 0;
    for (;;) {
      try {
        const { events } = await tx.commit();
        return { status: 'handled', event: attempt.event, staleSkipped, published: events };
      } catch (error) {
        if (!(error instanceof TransactionCanceledError)) return this.fail(attempt, error);
        const failed = error.failures;
        if (
          failed.some((f) => f.action.kind === INBOX_ACTION && f.code === 'ConditionalCheckFailed')
        ) {
          const taken = this.#strategy.recordTaken(attempt);
          return taken ? this.fail(attempt, taken) : { status: 'duplicate', event: attempt.event };
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
    if ('tx' in attempt) await this.#strategy.abandon(attempt);
    const { message, event } = attempt;
    if (error instanceof NotYetError) {
      const now = new Date();
      let wait: NotYetWait;
      try {
        wait = await this.#inbox.countNotYet(event.id, now);
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
    await this.#inbox.forgetNotYet(event.id).catch((e: unknown) =>
      this.logger.warn('could not reset the "not yet" wait of a dead-lettered event', {
        eventId: event.id,
        error: e,
      }),
    );
  }

  #notYetBudget() {
    return {
      maxWaitSeconds: this.options.notYet?.maxWaitSeconds ?? InboxDefaults.notYetMaxWaitSeconds,
      maxAttempts: this.options.notYet?.maxAttempts,
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
