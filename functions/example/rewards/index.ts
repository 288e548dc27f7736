import { inboxOptionsFromEnvironment, withInbox } from '../../../lib/consumer/index.js';
import { RewardsEvents } from './events.js';
import { handleRewardsEvent } from './handler.js';

/** The rewards consumer Lambda, configured by the EventBoxConsumer construct. */
export const handler = withInbox(handleRewardsEvent, {
  ...inboxOptionsFromEnvironment(),
  schemas: RewardsEvents,
});
