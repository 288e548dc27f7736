import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { EventBridgeClient, EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import * as z from 'zod/mini';
import { Limits } from '../shared/limits.js';
import { METRICS_NAMESPACE } from '../shared/metrics-namespace.js';
import { OptionChecks } from '../shared/option-checks.js';
import { notBoth } from '../shared/validate-options.js';

export type RelayOptions = {
  /** Name or ARN of the bus events are published to. */
  readonly eventBusName: string;
  /**
   * SQS queue for records that can never be published (malformed, rejected as invalid).
   * Without one, such a record is reported as failed and holds its shard until the event
   * source mapping's own retry limit sends the batch to its on-failure destination.
   */
  readonly deadLetterQueueUrl?: string;
  /** Largest PutEvents entry, and largest call, in bytes: 262144 to 1048576. @default 1048576 */
  readonly maxEntryBytes?: number;
  /** PutEvents calls in flight at once, 1 to 50. @default 20 */
  readonly concurrency?: number;
  /** Attempts per entry on retryable errors (throttling, internal failure), 1 to 20. @default 6 */
  readonly maxAttempts?: number;
  /** Backoff between attempts: full jitter up to `min(capMs, baseMs * 2^n)`. @default { baseMs: 50, capMs: 2000 } */
  readonly backoff?: { readonly baseMs?: number; readonly capMs?: number };
  /** Stop starting calls when the invocation has less than this left, in ms. @default 1500 */
  readonly safetyMarginMs?: number;
  /** Powertools Logger; one is created (service `eventbox-relay`) if omitted. */
  readonly logger?: Logger;
  /** Powertools Metrics; one is created (namespace `Eventbox`, service `relay`) if omitted. */
  readonly metrics?: Metrics;
} & (
  | { readonly eventBridgeClient?: EventBridgeClient; readonly eventBridgeClientConfig?: never }
  | {
      readonly eventBridgeClientConfig?: EventBridgeClientConfig;
      readonly eventBridgeClient?: never;
    }
) &
  (
    | { readonly sqsClient?: SQSClient; readonly sqsClientConfig?: never }
    | { readonly sqsClientConfig?: SQSClientConfig; readonly sqsClient?: never }
  );

export const RelayDefaults = {
  maxEntryBytes: Limits.maxEventBytes,
  concurrency: 20,
  maxAttempts: 6,
  backoff: { baseMs: 50, capMs: 2_000 },
  safetyMarginMs: 1_500,
  metricsNamespace: METRICS_NAMESPACE,
} as const;

const { int: positiveInt, anything, config } = OptionChecks;

// zod/mini, as the envelope: the relay's bundle carries only the checks it uses.
export const relayOptionsSchema = z
  .strictObject({
    eventBusName: z.string().check(z.minLength(1, 'must not be empty')),
    deadLetterQueueUrl: z.optional(z.url({ error: 'must be a queue URL' })),
    maxEntryBytes: positiveInt(Limits.minEventBytes, Limits.maxEventBytes),
    concurrency: positiveInt(1, 50),
    maxAttempts: positiveInt(1, 20),
    backoff: z.optional(
      z.strictObject({ baseMs: positiveInt(1, 60_000), capMs: positiveInt(1, 300_000) }),
    ),
    safetyMarginMs: positiveInt(0, 60_000),
    logger: anything,
    metrics: anything,
    eventBridgeClient: anything,
    eventBridgeClientConfig: config,
    sqsClient: anything,
    sqsClientConfig: config,
  })
  .check(
    z.refine(...notBoth('eventBridgeClient', 'eventBridgeClientConfig')),
    z.refine(...notBoth('sqsClient', 'sqsClientConfig')),
  );
