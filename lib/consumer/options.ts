import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { DeliveryDefaults } from '../delivery/batch.js';
import { OutboxItem } from '../envelope/outbox-item.js';
import type { DynamoDbClientOptions } from '../shared/dynamodb-client.js';
import { METRICS_NAMESPACE } from '../shared/metrics-namespace.js';
import { OptionChecks } from '../shared/option-checks.js';
import { notBoth } from '../shared/validate-options.js';
import { InboxItem } from './inbox/format.js';
import type { PayloadSchemas } from './schemas.js';

export const InboxMode = {
  /** Inbox record and the handler's writes in one transaction: exactly-once effects. */
  transaction: 'transaction',
  /**
   * For effects outside DynamoDB: an in-progress record with an expiry, then a completed
   * record. At-least-once for the external effect.
   */
  lockThenComplete: 'lockThenComplete',
} as const;
export type InboxMode = (typeof InboxMode)[keyof typeof InboxMode];

export type InboxOptions = {
  /** Names this consumer in inbox records and metrics; one inbox per consumer. */
  readonly consumerName: string;
  /** The consumer's table: inbox records, and the default target of the handler's writes. */
  readonly tableName: string;
  /** `source` of follow-up events the handler publishes. @default consumerName */
  readonly source?: string;
  /** @default { partitionKey: 'pk', sortKey: 'sk' } */
  readonly keys?: { readonly partitionKey?: string; readonly sortKey?: string };
  /** @default 'version' */
  readonly versionAttribute?: string;
  /** How long inbox records live; longer than any redelivery. @default 604800 (7 days) */
  readonly inboxTtlSeconds?: number;
  /** The table's TTL attribute, for inbox and outbox items. @default 'ttl' */
  readonly ttlAttribute?: string;
  /**
   * Follow-up events' outbox. `false` when nothing relays the table: `ctx.tx.publish` then
   * throws `OutboxDisabledError` and the event is dead-lettered with that reason, instead of
   * an event that would never leave the table. @default { tableName, ttlSeconds: 604800 }
   */
  readonly outbox?: { readonly tableName?: string; readonly ttlSeconds?: number } | false;
  readonly notYet?: {
    /**
     * How long an event may wait for what it needs (its predecessor, say), from its first
     * "not yet" answer; then it goes to the dead-letter queue with the reason. Size it to
     * how far apart, in time, related events can arrive: a burst of N versions of one
     * aggregate arriving shuffled applies within about N × the backoff's cap in the worst
     * case, however large N. With `deadLetterQueueUrl` and `maxReceiveCount`, a message on
     * the queue's last delivery that may still wait is sent to the queue again as a new
     * message, so the count does not cut the wait short (not on FIFO queues, where a copy
     * would go behind its group). Below `inboxTtlSeconds`. A redriven letter waits a whole
     * budget again. @default 3600 (1 hour)
     */
    readonly maxWaitSeconds?: number;
    /** A cap on "not yet" answers as well as on the time, if set. @default none */
    readonly maxAttempts?: number;
    /** Visibility delay: `min(capSeconds, baseSeconds * 2^(attempt-1))`, jittered. @default { baseSeconds: 2, capSeconds: 300 } */
    readonly backoff?: { readonly baseSeconds?: number; readonly capSeconds?: number };
  };
  /**
   * Where messages that can never be handled go, with their reason: invalid events and
   * events still "not yet" after `notYet.maxWaitSeconds`. Without it they are reported as
   * failed and reach the queue's own dead-letter queue through its redrive policy.
   */
  readonly deadLetterQueueUrl?: string;
  /**
   * The `maxReceiveCount` of the queue's redrive policy. With `deadLetterQueueUrl`, a message
   * that would come back once more after this delivery is dead-lettered here with its reason
   * (the last "not yet", conflict or error), instead of being moved by SQS with none.
   * The EventBoxConsumer construct sets it. @default none: SQS's redrive policy alone
   */
  readonly maxReceiveCount?: number;
  /**
   * For EventBridge events delivered directly to the function (a rule targeting it, no
   * queue): its asynchronous invocations have an on-failure destination or dead-letter
   * queue, for example `fn.configureAsyncInvoke({ onFailure: new SqsDestination(queue) })`.
   * An event that must come back is then thrown back to Lambda, which retries it twice and
   * leaves it at the destination with the reason in the error. Without it such an event is
   * dead-lettered to `deadLetterQueueUrl` at once, and with neither, direct deliveries are
   * refused with `UnsupportedInvocationError`: Lambda would drop the event after its retries.
   * @default false
   */
  readonly failureDestination?: boolean;
  /**
   * The URL of the queue the function reads, which retries use to change a message's
   * visibility; without it the URL is looked up once per queue (GetQueueUrl). The
   * EventBoxConsumer construct sets it. @default looked up
   */
  readonly queueUrl?: string;
  /**
   * Accept only events of these tenants; any other (or none) is dead-lettered as the wrong
   * tenant, instead of being applied to this tenant's data. @default every tenant
   */
  readonly tenantIds?: readonly string[];
  /** Payload schemas by event type (zod or any Standard Schema). */
  readonly schemas?: PayloadSchemas;
  /** With `schemas`: what to do with a type that has none. @default 'dead-letter' */
  readonly unknownEventTypes?: 'dead-letter' | 'handle';
  /**
   * A handler whose only write is one `synchronize` needs no inbox record: the snapshot's
   * version is the deduplication. With this, such an event costs one conditional write
   * (1 write unit up to 1 KB) instead of a transaction with its inbox record (2 units per
   * item); a duplicate runs the handler again and its write is skipped as stale. Those
   * events leave no inbox record, so nothing shows they were handled but the entity's
   * version. The version deduplicates only while the item exists: a copy of an earlier
   * snapshot arriving after the entity was deleted writes it again, so mark deletions in
   * a snapshot rather than deleting the item. Transaction mode only. @default false
   */
  readonly synchronizeWithoutInbox?: boolean;
  /** @default 'transaction' */
  readonly mode?: InboxMode;
  /** Lock-then-complete: how long a lock holds before another delivery may take over. @default 300 */
  readonly lockTtlSeconds?: number;
  /** Messages of a standard-queue batch handled at once; FIFO groups go one by one. @default 10 */
  readonly concurrency?: number;
  /**
   * Messages not started when the invocation has less than this left are returned to the
   * queue at once, so a batch never times out as a whole.
   * @default 3000, or a fifth of the time left at the start if that is less
   */
  readonly deadlineMarginMs?: number;
  /** Powertools Logger; one is created (service = consumerName) if omitted. */
  readonly logger?: Logger;
  /** Powertools Metrics; one is created (namespace `Eventbox`, service = consumerName) if omitted. */
  readonly metrics?: Metrics;
} & DynamoDbClientOptions &
  (
    | { readonly sqsClient?: SQSClient; readonly sqsClientConfig?: never }
    | { readonly sqsClientConfig?: SQSClientConfig; readonly sqsClient?: never }
  );

export const InboxDefaults = {
  inboxTtlSeconds: InboxItem.defaultTtlSeconds,
  ttlAttribute: OutboxItem.defaultTtlAttribute,
  notYetMaxWaitSeconds: 3600,
  notYetBackoff: { baseSeconds: 2, capSeconds: 300 },
  mode: InboxMode.transaction,
  lockTtlSeconds: 300,
  concurrency: DeliveryDefaults.concurrency,
  deadlineMarginMs: DeliveryDefaults.deadlineMarginMs,
  metricsNamespace: METRICS_NAMESPACE,
} as const;

const { int, anything, config, nonEmpty } = OptionChecks;
const name = z.optional(nonEmpty);
const queueUrl = z.optional(z.url({ error: 'must be a queue URL' }));

// zod/mini, as the relay's: the consumer's bundle carries only the checks it uses.
export const inboxOptionsSchema = z
  .strictObject({
    consumerName: nonEmpty.check(
      z.regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"'),
    ),
    tableName: nonEmpty,
    source: name,
    keys: z.optional(z.strictObject({ partitionKey: name, sortKey: name })),
    versionAttribute: name,
    inboxTtlSeconds: int(60, 365 * 24 * 3600),
    ttlAttribute: name,
    outbox: z.optional(
      z.union([
        z.literal(false),
        z.strictObject({ tableName: name, ttlSeconds: int(60, 365 * 24 * 3600) }),
      ]),
    ),
    notYet: z.optional(
      z.strictObject({
        maxWaitSeconds: int(1, 14 * 24 * 3600),
        maxAttempts: int(1, 1000),
        backoff: z.optional(
          z.strictObject({ baseSeconds: int(0, 43_200), capSeconds: int(0, 43_200) }),
        ),
      }),
    ),
    deadLetterQueueUrl: queueUrl,
    maxReceiveCount: int(1, 1000),
    failureDestination: z.optional(z.boolean()),
    queueUrl,
    tenantIds: z.optional(z.array(nonEmpty).check(z.minLength(1, 'must list at least one tenant'))),
    schemas: config,
    unknownEventTypes: z.optional(z.enum(['dead-letter', 'handle'])),
    mode: z.optional(z.enum([InboxMode.transaction, InboxMode.lockThenComplete])),
    synchronizeWithoutInbox: z.optional(z.boolean()),
    lockTtlSeconds: int(1, 43_200),
    concurrency: int(1, 100),
    deadlineMarginMs: int(0, 900_000),
    logger: anything,
    metrics: anything,
    client: anything,
    clientConfig: config,
    sqsClient: anything,
    sqsClientConfig: config,
  })
  .check(
    z.refine(...notBoth('client', 'clientConfig')),
    z.refine(...notBoth('sqsClient', 'sqsClientConfig')),
    z.refine((o) => !(o.unknownEventTypes && !o.schemas), {
      message: 'unknownEventTypes needs schemas',
    }),
    z.refine(
      (o) =>
        (o.notYet?.maxWaitSeconds ?? InboxDefaults.notYetMaxWaitSeconds) <
        (o.inboxTtlSeconds ?? InboxDefaults.inboxTtlSeconds),
      {
        message:
          'notYet.maxWaitSeconds must be below inboxTtlSeconds: the wait is kept in an item that expires with the inbox record',
      },
    ),
  );
