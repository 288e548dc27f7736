import { InvalidOptionsError } from '../shared/errors.js';

/** Environment variables the EventBoxConsumer construct sets on a consumer function. */
export const ConsumerEnvironment = {
  tableName: 'TABLE_NAME',
  consumerName: 'CONSUMER_NAME',
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  notYetMaxAttempts: 'NOT_YET_MAX_ATTEMPTS',
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
  const maxAttempts = env[ConsumerEnvironment.notYetMaxAttempts];
  const deadLetterQueueUrl = env[ConsumerEnvironment.deadLetterQueueUrl];
  return {
    tableName,
    consumerName,
    ...(deadLetterQueueUrl ? { deadLetterQueueUrl } : {}),
    ...(maxAttempts ? { notYet: { maxAttempts: Number(maxAttempts) } } : {}),
  };
}
