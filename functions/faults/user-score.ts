import { inboxOptionsFromEnvironment, withInbox } from '../../lib/consumer/index.js';
import { UserScoreEvents } from '../example/user-score/events.js';
import { handleUserScoreEvent } from '../example/user-score/handler.js';
import { currentFaults } from './config.js';
import { crashingClient, inboxEventId } from './crash.js';

/**
 * The user-score consumer when deployed for fault tests: some invocations die just before
 * or just after one of their transactions, as a process killed mid-flight would, at the
 * rates in EVENTBOX_FAULTS.
 */
const options = inboxOptionsFromEnvironment();
const crashes = crashingClient(options.tableName, inboxEventId);

const inbox = withInbox(handleUserScoreEvent, {
  ...options,
  client: crashes.client,
  schemas: UserScoreEvents,
});

export async function handler(event: unknown) {
  crashes.arm(currentFaults().consumer);
  try {
    return await inbox(event);
  } finally {
    crashes.disarm();
  }
}
