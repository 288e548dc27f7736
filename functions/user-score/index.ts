import { withInbox } from '../../lib/consumer/index.js';
import { UserScoreEvents } from './events.js';
import { handleUserScoreEvent } from './handler.js';

/** The user-score consumer Lambda, configured by the EventBoxConsumer construct. */
const tableName = process.env.TABLE_NAME;
if (!tableName) throw new Error('TABLE_NAME is not set');

export const handler = withInbox(handleUserScoreEvent, {
  consumerName: process.env.CONSUMER_NAME ?? 'user-score',
  tableName,
  schemas: UserScoreEvents,
  ...(process.env.DEAD_LETTER_QUEUE_URL
    ? { deadLetterQueueUrl: process.env.DEAD_LETTER_QUEUE_URL }
    : {}),
});
