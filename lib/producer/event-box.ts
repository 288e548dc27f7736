import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type DynamoDbClientOptions, documentClient } from '../shared/dynamodb-client.js';
import { validateOptions } from '../shared/validate-options.js';
import type { TableLayout } from '../transaction/actions.js';
import { Transaction, type TransactionSettings } from '../transaction/transaction.js';
import { EventBoxDefaults, eventBoxOptionsSchema } from './options.js';

export type EventBoxOptions = {
  /** The table that holds the entities and, unless `outbox.tableName` says otherwise, the outbox. */
  readonly tableName: string;
  /** The EventBridge `source` of every event this box publishes, e.g. `orders`. Not `aws.*`. */
  readonly source: string;
  /** Key attribute names; both must be strings. @default { partitionKey: 'pk', sortKey: 'sk' } */
  readonly keys?: { readonly partitionKey?: string; readonly sortKey?: string };
  /** The attribute that holds an entity's version. @default 'version' */
  readonly versionAttribute?: string;
  readonly outbox?: {
    /** Keep outbox items in another table (with the same key names). @default tableName */
    readonly tableName?: string;
    /** How long outbox items live before TTL deletes them. @default 604800 (7 days) */
    readonly ttlSeconds?: number;
    /** The table's TTL attribute. @default 'ttl' */
    readonly ttlAttribute?: string;
  };
  /**
   * The tenant this box writes for (a table per tenant, say): stamped on every event, and an
   * event that names another tenant is refused before anything is written.
   */
  readonly tenantId?: string;
  /**
   * Largest PutEvents entry an event may become, 262144 (256 KB) to 1048576 (1 MB). An
   * event must also fit its outbox item, a DynamoDB item of at most 400 KB: above about
   * 400 KB, `EventTooLargeError` names that limit.
   * @default 1048576
   */
  readonly maxEventBytes?: number;
} & DynamoDbClientOptions;

/**
 * The producer's entry point: creates transactions that write entities and their events
 * atomically.
 *
 * @example
 * const box = new EventBox({ tableName: 'orders', source: 'orders' });
 * const tx = box.transaction();
 * tx.update({ pk: 'ORDER#1', sk: 'ORDER' }, { status: 'paid' }, { expectedVersion: 3 });
 * tx.publish({ type: 'OrderPaid', aggregate: { type: 'Order', id: '1', version: 4 }, payload: { amount: 25 } });
 * await tx.commit();
 */
export class EventBox {
  readonly client: DynamoDBDocumentClient;
  readonly #settings: TransactionSettings;

  /** @throws InvalidOptionsError for unknown, missing or contradictory options. */
  constructor(options: EventBoxOptions) {
    validateOptions(eventBoxOptionsSchema, options, 'EventBox options');
    this.client = documentClient(options);
    const layout: TableLayout = {
      tableName: options.tableName,
      partitionKey: options.keys?.partitionKey ?? EventBoxDefaults.partitionKey,
      sortKey: options.keys?.sortKey ?? EventBoxDefaults.sortKey,
      versionAttribute: options.versionAttribute ?? EventBoxDefaults.versionAttribute,
    };
    this.#settings = {
      client: this.client,
      layout,
      outbox: {
        layout: { ...layout, tableName: options.outbox?.tableName ?? options.tableName },
        ttlSeconds: options.outbox?.ttlSeconds ?? EventBoxDefaults.outboxTtlSeconds,
        ttlAttribute: options.outbox?.ttlAttribute ?? EventBoxDefaults.ttlAttribute,
      },
      source: options.source,
      ...(options.tenantId === undefined ? {} : { tenantId: options.tenantId }),
      maxEventBytes: options.maxEventBytes ?? EventBoxDefaults.maxEventBytes,
      now: () => new Date(),
    };
  }

  /** The resolved settings every transaction of this box shares. */
  get settings(): TransactionSettings {
    return this.#settings;
  }

  /** A new, empty unit of work. */
  transaction(): Transaction {
    return new Transaction(this.#settings);
  }
}
