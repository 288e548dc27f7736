import { createRelayHandler } from '../../lib/relay/handler.js';

/**
 * The relay Lambda: DynamoDB stream (outbox INSERTs) to EventBridge. Configured by the
 * EventBox construct through the environment.
 */
function numberFrom(name: string): number | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : Number(value);
}

const eventBusName = process.env.EVENT_BUS_NAME;
if (!eventBusName) throw new Error('EVENT_BUS_NAME is not set');

export const handler = createRelayHandler({
  eventBusName,
  ...(process.env.DEAD_LETTER_QUEUE_URL
    ? { deadLetterQueueUrl: process.env.DEAD_LETTER_QUEUE_URL }
    : {}),
  ...(numberFrom('MAX_ENTRY_BYTES') === undefined
    ? {}
    : { maxEntryBytes: numberFrom('MAX_ENTRY_BYTES') }),
  ...(numberFrom('CONCURRENCY') === undefined ? {} : { concurrency: numberFrom('CONCURRENCY') }),
});
