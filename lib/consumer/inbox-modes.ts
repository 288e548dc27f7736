import type { Logger } from '@aws-lambda-powertools/logger';
import type { InboxMessage } from '../delivery/messages.js';
import type { Outcome } from '../delivery/outcome.js';
import type { EventEnvelope } from '../envelope/envelope.js';
import type { TransactionSettings } from '../transaction/transaction.js';
import { ConsumerTransaction } from './consumer-transaction.js';
import { EventLockedError } from './errors.js';
import type { InboxStore, Lock } from './inbox/store.js';

/** An event being handled: its transaction, and in lock mode the lock it holds. */
export interface Attempt {
  readonly message: InboxMessage;
  readonly event: EventEnvelope;
  readonly tx: ConsumerTransaction;
  readonly lock?: Lock;
}

/**
 * How a consumer keeps an event from being applied twice: where the engine's two modes
 * differ, each its own strategy, so the engine reads as one path.
 */
export interface InboxStrategy {
  /** Whether a batch read of inbox records spares each message its own read. */
  readonly prefetches: boolean;
  /** Whether a handler whose only write is a synchronize may go without an inbox record. */
  readonly synchronizesAlone: boolean;
  /** Opens the attempt, or says why the handler must not run (a duplicate, a lock held). */
  begin(
    message: InboxMessage,
    event: EventEnvelope,
    seen: boolean | undefined,
    now: Date,
  ): Promise<{ attempt: Attempt } | { outcome: Outcome }>;
  /** The commit found the inbox record taken: undefined for a duplicate, else the error it is. */
  recordTaken(attempt: Attempt): Error | undefined;
  /** The attempt ends without committing: gives back what it holds. */
  abandon(attempt: Attempt): Promise<void>;
}

/**
 * The inbox record is created in the handler's own transaction: both commit or neither,
 * and a second delivery's commit cancels on the record.
 */
export class TransactionalInbox implements InboxStrategy {
  readonly prefetches = true;
  readonly synchronizesAlone = true;
  readonly #store: InboxStore;
  readonly #settings: TransactionSettings;

  constructor(store: InboxStore, settings: TransactionSettings) {
    this.#store = store;
    this.#settings = settings;
  }

  async begin(message: InboxMessage, event: EventEnvelope, seen: boolean | undefined, now: Date) {
    // A cheap read first (the batch's, or one of its own), so a duplicate does not run the
    // handler; the transaction's condition on the inbox record is what guarantees it.
    if (seen ?? (await this.#store.exists(event.id)))
      return { outcome: { status: 'duplicate', event } as const };
    const tx = new ConsumerTransaction(this.#settings, this.#store.planRecord(event, now), event);
    return { attempt: { message, event, tx } };
  }

  recordTaken(): Error | undefined {
    return undefined;
  }

  async abandon(): Promise<void> {}
}

/**
 * An in-progress record (a lock with a time to live) is written before the handler runs
 * and completed in its transaction: for handlers with effects outside DynamoDB, which
 * must not run twice at once.
 */
export class LockThenComplete implements InboxStrategy {
  readonly prefetches = false;
  readonly synchronizesAlone = false;
  readonly #store: InboxStore;
  readonly #settings: TransactionSettings;
  readonly #lockTtlSeconds: number;
  readonly #logger: Logger;

  constructor(
    store: InboxStore,
    settings: TransactionSettings,
    lockTtlSeconds: number,
    logger: Logger,
  ) {
    this.#store = store;
    this.#settings = settings;
    this.#lockTtlSeconds = lockTtlSeconds;
    this.#logger = logger;
  }

  async begin(
    message: InboxMessage,
    event: EventEnvelope,
    _seen: boolean | undefined,
    now: Date,
  ): Promise<{ attempt: Attempt } | { outcome: Outcome }> {
    const result = await this.#store.lock(event, now, this.#lockTtlSeconds);
    if ('completed' in result) return { outcome: { status: 'duplicate', event } };
    if ('heldUntil' in result) {
      const error = new EventLockedError(event.id, result.heldUntil);
      const delaySeconds = Math.max(1, Math.ceil((result.heldUntil - now.getTime()) / 1000));
      return {
        outcome: { status: 'retry', kind: 'locked', event, reason: error.message, delaySeconds },
      };
    }
    const lock = result.acquired;
    const tx = new ConsumerTransaction(
      this.#settings,
      this.#store.planCompletion(lock, now),
      event,
    );
    return { attempt: { message, event, tx, lock } };
  }

  recordTaken(): Error | undefined {
    return new Error('the lock expired and another delivery took the event over');
  }

  async abandon(attempt: Attempt): Promise<void> {
    if (!attempt.lock) return;
    await this.#store.release(attempt.lock).catch((error: unknown) =>
      this.#logger.warn('could not release the lock; it expires on its own', {
        eventId: attempt.event.id,
        error,
      }),
    );
  }
}
