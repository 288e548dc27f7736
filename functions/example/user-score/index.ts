import { inboxOptionsFromEnvironment, withInbox } from '../../../lib/consumer/index.js';
import { UserScoreEvents } from './events.js';
import { handleUserScoreEvent } from './handler.js';

/** The user-score consumer Lambda, configured by the EventBoxConsumer construct. */
export const handler = withInbox(handleUserScoreEvent, {
  ...inboxOptionsFromEnvironment(),
  schemas: UserScoreEvents,
});
