import { DeliveryMetrics } from '../delivery/metrics.js';
import { InvalidOptionsError } from '../shared/errors.js';

/**
 * Environment variables the EventBoxConsumer construct sets on a consumer function, and
 * the runtime reads: one table for both, prefixed so that none can be a user's own.
 */
export const ConsumerEnvironment = {
  tableName: 'EVENTBOX_TABLE_NAME',
  consumerName: 'EVENTBOX_CONSUMER_NAME',
  deadLetterQueueUrl: 'EVENTBOX_DEAD_LETTER_QUEUE_URL',
  /** The queue the function reads. */
  queueUrl: 'EVENTBOX_QUEUE_URL',
  notYetMaxAttempts: 'EVENTBOX_NOT_YET_MAX_ATTEMPTS',
  notYetMaxWaitSeconds: 'EVENTBOX_NOT_YET_MAX_WAIT_SECONDS',
  /** The queue's redrive maxReceiveCount. */
  maxReceiveCount: 'EVENTBOX_MAX_RECEIVE_COUNT',
  inboxTtlSeconds: 'EVENTBOX_INBOX_TTL_SECONDS',
  notYetBackoffBaseSeconds: 'EVENTBOX_NOT_YET_BACKOFF_BASE_SECONDS',
  notYetBackoffCapSeconds: 'EVENTBOX_NOT_YET_BACKOFF_CAP_SECONDS',
  /** `false` when no relay reads the consumer's table: publishing then fails loudly. */
  outboxRelayed: 'EVENTBOX_OUTBOX_RELAYED',
  /**
   * Not Eventbox's name, but Eventbox sets it: Powertools names the metrics' `service`
   * dimension from it, which the construct's alarms and dashboard query.
   */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** Likewise: the namespace the construct's alarms and dashboard read the metrics from. */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/**
 * The metrics an inbox consumer publishes (namespace `Eventbox`, dimension `service` = the
 * consumer's name), which the construct's alarms and dashboard and `eventbox status` read.
 */
export const ConsumerMetrics = {
  ...DeliveryMetrics,
  notYetRetries: 'NotYetRetries',
  notYetRequeued: 'NotYetRequeued',
  lockWaits: 'LockWaits',
  conflictRetries: 'ConflictRetries',
} as const;

/**
 * The inbox options the EventBoxConsumer construct passes through the environment, to
 * spread into `withInbox`'s options.
 *
 * @example
 * export const handler = withInbox(handleEvent, { ...inboxOptionsFromEnvironment(), schemas });
 */
export function inboxOptionsFromEnvironment(env: NodeJS.ProcessEnv = process.env) {
  const tableName = env[ConsumerEnvironment.tableName];
  const consumerName = env[ConsumerEnvironment.consumerName];
  const missing = [
    tableName ? undefined : ConsumerEnvironment.tableName,
    consumerName ? undefined : ConsumerEnvironment.consumerName,
  ].filter((m) => m !== undefined);
  if (!tableName || !consumerName) {
    throw new InvalidOptionsError(
      'consumer environment',
      missing.map((name) => `${name} is not set`),
    );
  }
  const number = (name: string) => (env[name] ? Number(env[name]) : undefined);
  const maxAttempts = number(ConsumerEnvironment.notYetMaxAttempts);
  const maxWaitSeconds = number(ConsumerEnvironment.notYetMaxWaitSeconds);
  const inboxTtlSeconds = number(ConsumerEnvironment.inboxTtlSeconds);
  const maxReceiveCount = number(ConsumerEnvironment.maxReceiveCount);
  const baseSeconds = number(ConsumerEnvironment.notYetBackoffBaseSeconds);
  const capSeconds = number(ConsumerEnvironment.notYetBackoffCapSeconds);
  const backoff = {
    ...(baseSeconds === undefined ? {} : { baseSeconds }),
    ...(capSeconds === undefined ? {} : { capSeconds }),
  };
  const deadLetterQueueUrl = env[ConsumerEnvironment.deadLetterQueueUrl];
  const queueUrl = env[ConsumerEnvironment.queueUrl];
  return {
    tableName,
    consumerName,
    ...(deadLetterQueueUrl ? { deadLetterQueueUrl } : {}),
    ...(queueUrl ? { queueUrl } : {}),
    ...(inboxTtlSeconds === undefined ? {} : { inboxTtlSeconds }),
    ...(maxReceiveCount === undefined ? {} : { maxReceiveCount }),
    ...(env[ConsumerEnvironment.outboxRelayed] === 'false' ? { outbox: false as const } : {}),
    notYet: {
      ...(maxWaitSeconds === undefined ? {} : { maxWaitSeconds }),
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
      ...(Object.keys(backoff).length > 0 ? { backoff } : {}),
    },
  };
}
