import type { EventEnvelope, EventInput } from '../envelope/envelope.js';
import type { Item, TransactItem } from '../transaction/actions.js';
import type { PlannedAction } from '../transaction/planners.js';
import { Transaction, type TransactionSettings } from '../transaction/transaction.js';
import { planSynchronize, SynchronizeMode, synchronizeKind } from './synchronize.js';

export interface SynchronizeOptions {
  /** The snapshot's version; it is written only over an absent item or a lower version. */
  readonly version: number;
  /**
   * `replace`: the snapshot becomes the whole item (attributes it does not name are removed).
   * `merge`: the snapshot's attributes are set and the item's others kept (local fields survive).
   * @default 'replace'
   */
  readonly mode?: SynchronizeMode;
  /** Target another table than the consumer's own. */
  readonly tableName?: string;
}

/**
 * The unit of work a consumer handler gets: the producer's API (put, update, delete, check,
 * publish) plus `synchronize`, committed in ONE TransactWriteItems together with the
 * inbox record, so a duplicate delivery changes nothing and a crash leaves nothing half-done.
 */
export class ConsumerTransaction extends Transaction {
  /** The event being handled. */
  readonly event: EventEnvelope;
  readonly #inbox: PlannedAction;

  constructor(settings: TransactionSettings, inbox: PlannedAction, event: EventEnvelope) {
    super(settings);
    this.event = event;
    this.#inbox = inbox;
    this.record(inbox);
  }

  /**
   * Applies an entity snapshot only if it is newer than the stored one, as a whole item
   * (`mode: 'replace'`, the default) or over the stored item's other attributes
   * (`mode: 'merge'`). A stale snapshot is skipped (and counted) at commit, while the rest
   * of the transaction still commits.
   */
  synchronize(snapshot: Item, options: SynchronizeOptions): this {
    this.record(
      planSynchronize(
        this.layoutFor(options.tableName),
        snapshot,
        options.version,
        options.mode ?? SynchronizeMode.replace,
      ),
    );
    return this;
  }

  /**
   * Publishes a follow-up event in the same transaction. `causationId` defaults to the
   * handled event's id; `correlationId` and `tenantId` are carried over from it.
   */
  override publish<TPayload>(input: EventInput<TPayload>): EventEnvelope<TPayload> {
    const { event } = this;
    return super.publish({
      causationId: event.id,
      correlationId: event.correlationId ?? event.id,
      ...(event.tenantId === undefined ? {} : { tenantId: event.tenantId }),
      ...input,
    });
  }

  /** The write of a transaction whose only action besides the inbox record is one synchronize. */
  soleSynchronize(): TransactItem | undefined {
    const rest = this.actions.slice(1);
    const [only] = rest;
    return rest.length === 1 && only?.summary.kind === synchronizeKind
      ? only.transactItem
      : undefined;
  }

  /** The same transaction without the given actions, with a new request token. */
  without(indexes: ReadonlySet<number>): ConsumerTransaction {
    const copy = new ConsumerTransaction(this.settings, this.#inbox, this.event);
    for (const action of this.actions.slice(1)) {
      if (!indexes.has(action.summary.index)) copy.record(action, action.event);
    }
    return copy;
  }
}
