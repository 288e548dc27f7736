import { InvalidOptionsError } from '../shared/errors.js';

/** Environment variables the EventBoxConsumer construct sets on a consumer function. */
export const ConsumerEnvironment = {
  tableName: 'TABLE_NAME',
  consumerName: 'CONSUMER_NAME',
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  /** The queue the function reads. */
  queueUrl: 'QUEUE_URL',
  notYetMaxAttempts: 'NOT_YET_MAX_ATTEMPTS',
  /** The queue's redrive maxReceiveCount. */
  maxReceiveCount: 'MAX_RECEIVE_COUNT',
  inboxTtlSeconds: 'INBOX_TTL_SECONDS',
  notYetBackoffBaseSeconds: 'NOT_YET_BACKOFF_BASE_SECONDS',
  notYetBackoffCapSeconds: 'NOT_YET_BACKOFF_CAP_SECONDS',
  /** `false` when no relay reads the consumer's table: publishing then fails loudly. */
  outboxRelayed: 'OUTBOX_RELAYED',
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
      ...(maxAttempts === undefined ? {} : { maxAttempts }),
      ...(Object.keys(backoff).length > 0 ? { backoff } : {}),
    },
  };
}
