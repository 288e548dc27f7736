import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { DynamoDbClientOptions } from '../shared/dynamodb-client.js';
import { OutboxItem } from '../shared/outbox-item.js';
import { notBoth } from '../shared/validate-options.js';
import { InboxItem } from './inbox-item.js';
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
    /** Deliveries before a "not yet" event goes to the dead-letter queue. @default 10 */
    readonly maxAttempts?: number;
    /** Visibility delay: `min(capSeconds, baseSeconds * 2^(attempt-1))`, jittered. @default { baseSeconds: 2, capSeconds: 300 } */
    readonly backoff?: { readonly baseSeconds?: number; readonly capSeconds?: number };
  };
  /**
   * Where messages that can never be handled go, with their reason: invalid events and
   * events still "not yet" after `notYet.maxAttempts`. Without it they are reported as
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
   * version. Transaction mode only. @default false
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
  notYetMaxAttempts: 10,
  notYetBackoff: { baseSeconds: 2, capSeconds: 300 },
  mode: InboxMode.transaction,
  lockTtlSeconds: 300,
  concurrency: 10,
  deadlineMarginMs: 3000,
  metricsNamespace: 'Eventbox',
} as const;

const int = (min: number, max: number) =>
  z
    .number()
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const name = z.string().min(1, 'must not be empty');

export const inboxOptionsSchema = z
  .strictObject({
    consumerName: name.regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"'),
    tableName: name,
    source: name.optional(),
    keys: z.strictObject({ partitionKey: name.optional(), sortKey: name.optional() }).optional(),
    versionAttribute: name.optional(),
    inboxTtlSeconds: int(60, 365 * 24 * 3600).optional(),
    ttlAttribute: name.optional(),
    outbox: z
      .union([
        z.literal(false),
        z.strictObject({
          tableName: name.optional(),
          ttlSeconds: int(60, 365 * 24 * 3600).optional(),
        }),
      ])
      .optional(),
    notYet: z
      .strictObject({
        maxAttempts: int(1, 100).optional(),
        backoff: z
          .strictObject({
            baseSeconds: int(0, 43_200).optional(),
            capSeconds: int(0, 43_200).optional(),
          })
          .optional(),
      })
      .optional(),
    deadLetterQueueUrl: z.string().url('must be a queue URL').optional(),
    maxReceiveCount: int(1, 1000).optional(),
    failureDestination: z.boolean().optional(),
    queueUrl: z.string().url('must be a queue URL').optional(),
    tenantIds: z.array(name).min(1, 'must list at least one tenant').optional(),
    schemas: z.record(z.string(), z.unknown()).optional(),
    unknownEventTypes: z.enum(['dead-letter', 'handle']).optional(),
    mode: z.enum([InboxMode.transaction, InboxMode.lockThenComplete]).optional(),
    synchronizeWithoutInbox: z.boolean().optional(),
    lockTtlSeconds: int(1, 43_200).optional(),
    concurrency: int(1, 100).optional(),
    deadlineMarginMs: int(0, 900_000).optional(),
    logger: z.unknown().optional(),
    metrics: z.unknown().optional(),
    client: z.unknown().optional(),
    clientConfig: z.record(z.string(), z.unknown()).optional(),
    sqsClient: z.unknown().optional(),
    sqsClientConfig: z.record(z.string(), z.unknown()).optional(),
  })
  .refine(...notBoth('client', 'clientConfig'))
  .refine(...notBoth('sqsClient', 'sqsClientConfig'))
  .refine((o) => !(o.unknownEventTypes && !o.schemas), {
    message: 'unknownEventTypes needs schemas',
  });
