import { randomUUID } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { createEnvelope, putEventsEntrySize, serializeEnvelope } from '../envelope/create.js';
import type { EventEnvelope, EventInput } from '../envelope/envelope.js';
import { InvalidEventError } from '../envelope/errors.js';
import { outboxItem } from '../envelope/outbox-item.js';
import { Limits } from '../shared/limits.js';
import type { ActionSummary, Item, Key, TableLayout } from './actions.js';
import { isTransactionCanceled, mapCancellation } from './cancellation.js';
import type { Condition } from './conditions.js';
import {
  DuplicateActionError,
  EventTooLargeError,
  ItemTooLargeError,
  OutboxDisabledError,
  TransactionStateError,
  TransactionTooLargeError,
} from './errors.js';
import { itemSize } from './item-size.js';
import {
  type GuardOptions,
  type PlannedAction,
  planCheck,
  planCreate,
  planDelete,
  planPut,
  planUpdate,
  type UpdateChange,
} from './planners.js';

/** Everything a transaction needs, resolved once by the box that creates it. */
export interface TransactionSettings {
  readonly client: DynamoDBDocumentClient;
  /** The table entity actions target unless they name another. */
  readonly layout: TableLayout;
  /** The table outbox items go to, with their TTL. */
  readonly outbox: {
    readonly layout: TableLayout;
    readonly ttlSeconds: number;
    readonly ttlAttribute: string;
    /** Set when nothing relays this outbox: `publish` throws OutboxDisabledError with it. */
    readonly disabledReason?: string;
  };
  readonly source: string;
  /** Stamped on every event; an event naming another tenant is refused. */
  readonly tenantId?: string;
  readonly maxEventBytes: number;
  readonly now: () => Date;
}

/** What a successful commit returns. */
export interface CommitResult {
  /** The events that are now in the outbox, in the order they were published. */
  readonly events: readonly EventEnvelope[];
}

interface RecordedAction extends PlannedAction {
  readonly summary: ActionSummary;
  readonly bytes: number;
  readonly event?: EventEnvelope;
}

/**
 * A unit of work: entity writes, each guarded by its expected version, and the events they
 * publish, committed together in ONE TransactWriteItems call. Every limit is checked as the
 * action is added, so a transaction that cannot be sent fails before anything is sent.
 *
 * @example
 * const tx = box.transaction();
 * tx.put({ pk: 'ORDER#1', sk: 'ORDER', total: 10 }, { expectedVersion: 0 });
 * tx.publish({ type: 'OrderPlaced', aggregate: { type: 'Order', id: '1', version: 1 }, payload: { total: 10 } });
 * const { events } = await tx.commit();
 */
export class Transaction {
  /**
   * Makes retries of the same commit idempotent: if an SDK retry follows a commit that
   * succeeded, DynamoDB answers success instead of failing the version guards.
   */
  readonly clientRequestToken: string = randomUUID();
  protected readonly settings: TransactionSettings;
  protected readonly actions: RecordedAction[] = [];
  readonly #targets = new Map<string, ActionSummary>();
  readonly #publishedVersions = new Map<string, number>();
  #bytes = 0;
  #state: 'open' | 'committing' | 'committed' | 'failed' = 'open';

  constructor(settings: TransactionSettings) {
    this.settings = settings;
  }

  /** Writes a whole item. With `expectedVersion`, stores `expectedVersion + 1` in the version attribute. */
  put(item: Item, options: GuardOptions = {}): this {
    this.record(planPut(this.layoutFor(options.tableName), item, options));
    return this;
  }

  /**
   * Changes attributes of one item, guarded like `put`: a value sets the attribute,
   * `undefined` removes it, and `add`, `append`, `addToSet`, `removeFromSet` and
   * `ifNotExists` change it on the server, so a counter needs no read and no version guard.
   * @example tx.update({ pk: 'STOCK#7', sk: 'STOCK' }, { reserved: add(1) });
   */
  update(
    key: Key,
    changes: Readonly<Record<string, UpdateChange>>,
    options: GuardOptions = {},
  ): this {
    this.record(planUpdate(this.layoutFor(options.tableName), key, changes, options));
    return this;
  }

  /** Deletes one item; `expectedVersion` (at least 1) guards it. */
  delete(key: Key, options: GuardOptions = {}): this {
    this.record(planDelete(this.layoutFor(options.tableName), key, options));
    return this;
  }

  /** Makes the transaction depend on a condition of an item it does not write. */
  check(key: Key, condition: Condition, options: { tableName?: string } = {}): this {
    this.record(planCheck(this.layoutFor(options.tableName), key, condition));
    return this;
  }

  /**
   * Adds an event to the outbox, written in the same transaction. Returns the envelope
   * (with its id) that will be published if, and only if, the transaction commits.
   * @throws InvalidEventError, EventTooLargeError, ItemTooLargeError, TransactionTooLargeError;
   * OutboxDisabledError when nothing relays this outbox.
   */
  publish<TPayload>(input: EventInput<TPayload>): EventEnvelope<TPayload> {
    this.assertOpen();
    const { disabledReason } = this.settings.outbox;
    if (disabledReason !== undefined) throw new OutboxDisabledError(input.type, disabledReason);
    const { tenantId } = this.settings;
    if (tenantId !== undefined && input.tenantId !== undefined && input.tenantId !== tenantId) {
      throw new InvalidEventError(
        [`tenantId: "${input.tenantId}" is not this box's tenant "${tenantId}"`],
        input.type,
      );
    }
    const envelope = createEnvelope(tenantId === undefined ? input : { ...input, tenantId }, {
      source: this.settings.source,
      now: this.settings.now(),
    });
    const detail = serializeEnvelope(envelope);
    const entryBytes = putEventsEntrySize(envelope, detail);
    if (entryBytes > this.settings.maxEventBytes) {
      throw new EventTooLargeError(
        envelope.id,
        envelope.type,
        entryBytes,
        this.settings.maxEventBytes,
      );
    }
    const { layout, ttlSeconds, ttlAttribute } = this.settings.outbox;
    const { aggregate } = envelope;
    const versionKey = `${aggregate.type}#${aggregate.id}#${aggregate.version}`;
    const index = this.#publishedVersions.get(versionKey) ?? 0;
    const item = outboxItem({
      envelope,
      detail,
      keys: layout,
      index,
      ttl: { attribute: ttlAttribute, seconds: ttlSeconds },
      now: this.settings.now(),
      // Lambda sets this per invocation; carrying it lets the trace continue across the bus.
      ...(process.env._X_AMZN_TRACE_ID ? { traceHeader: process.env._X_AMZN_TRACE_ID } : {}),
    });
    const itemBytes = itemSize(item);
    if (itemBytes > Limits.maxItemBytes) {
      throw new EventTooLargeError(
        envelope.id,
        envelope.type,
        itemBytes,
        Limits.maxItemBytes,
        'outbox item',
      );
    }
    this.record(
      planCreate(layout, 'publish', item, {
        expectedVersion: aggregate.version - 1,
        eventId: envelope.id,
      }),
      envelope,
    );
    this.#publishedVersions.set(versionKey, index + 1);
    return envelope;
  }

  /** The events published so far, in order. */
  get events(): readonly EventEnvelope[] {
    return this.actions.flatMap((a) => (a.event ? [a.event] : []));
  }

  /** The TransactWriteItems input this transaction would send; nothing is sent. */
  params(): TransactWriteCommandInput {
    return {
      TransactItems: this.actions.map((a) => a.transactItem),
      ClientRequestToken: this.clientRequestToken,
    };
  }

  /**
   * Sends exactly one TransactWriteItems. A transaction with no actions commits nothing.
   * @throws VersionConflictError, AlreadyExistsError, ConditionFailedError, TransactionConflictError
   * or TransactionCanceledError when DynamoDB cancels it; any other SDK error unchanged.
   */
  async commit(): Promise<CommitResult> {
    this.assertOpen();
    this.#state = 'committing';
    try {
      if (this.actions.length > 0)
        await this.settings.client.send(new TransactWriteCommand(this.params()));
      this.#state = 'committed';
    } catch (error) {
      this.#state = 'failed';
      if (isTransactionCanceled(error)) {
        throw mapCancellation(
          error,
          this.actions,
          (tableName) => this.layoutFor(tableName).versionAttribute,
        );
      }
      throw error;
    }
    return { events: this.events };
  }

  /**
   * Adds an action planned elsewhere, after the same checks as every other action: how
   * extensions (jobs) write their own items in the same transaction.
   */
  addAction(planned: PlannedAction, event?: EventEnvelope): ActionSummary {
    return this.record(planned, event);
  }

  protected layoutFor(tableName: string | undefined): TableLayout {
    const { layout } = this.settings;
    return tableName === undefined || tableName === layout.tableName
      ? layout
      : { ...layout, tableName };
  }

  /** Adds an action after checking every limit, so a failing add leaves the transaction as it was. */
  protected record(planned: PlannedAction, event?: EventEnvelope): ActionSummary {
    this.assertOpen();
    const summary: ActionSummary = { ...planned.summary, index: this.actions.length };
    const target = `${summary.tableName}\u0000${JSON.stringify(summary.key)}`;
    const earlier = this.#targets.get(target);
    if (earlier) throw new DuplicateActionError(earlier, summary);
    const bytes = itemSize(planned.item);
    if (bytes > Limits.maxItemBytes)
      throw new ItemTooLargeError(summary, bytes, Limits.maxItemBytes);
    const actions = this.actions.length + 1;
    const total = this.#bytes + bytes;
    if (actions > Limits.maxTransactionActions || total > Limits.maxTransactionBytes) {
      throw new TransactionTooLargeError(actions, total, {
        actions: Limits.maxTransactionActions,
        bytes: Limits.maxTransactionBytes,
      });
    }
    this.actions.push({ ...planned, summary, bytes, ...(event ? { event } : {}) });
    this.#targets.set(target, summary);
    this.#bytes = total;
    return summary;
  }

  private assertOpen(): void {
    if (this.#state !== 'open') {
      throw new TransactionStateError(
        `This transaction is ${this.#state === 'committing' ? 'being committed' : this.#state}; start a new one`,
      );
    }
  }
}
