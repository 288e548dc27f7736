import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { EventBridgeClient, EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { Limits } from '../shared/limits.js';
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
  metricsNamespace: 'Eventbox',
} as const;

const positiveInt = (min: number, max: number) =>
  z
    .number()
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const relayOptionsSchema = z
  .strictObject({
    eventBusName: z.string().min(1, 'must not be empty'),
    deadLetterQueueUrl: z.string().url('must be a queue URL').optional(),
    maxEntryBytes: positiveInt(Limits.minEventBytes, Limits.maxEventBytes).optional(),
    concurrency: positiveInt(1, 50).optional(),
    maxAttempts: positiveInt(1, 20).optional(),
    backoff: z
      .strictObject({
        baseMs: positiveInt(1, 60_000).optional(),
        capMs: positiveInt(1, 300_000).optional(),
      })
      .optional(),
    safetyMarginMs: positiveInt(0, 60_000).optional(),
    logger: z.unknown().optional(),
    metrics: z.unknown().optional(),
    eventBridgeClient: z.unknown().optional(),
    eventBridgeClientConfig: z.record(z.string(), z.unknown()).optional(),
    sqsClient: z.unknown().optional(),
    sqsClientConfig: z.record(z.string(), z.unknown()).optional(),
  })
  .refine(...notBoth('eventBridgeClient', 'eventBridgeClientConfig'))
  .refine(...notBoth('sqsClient', 'sqsClientConfig'));
