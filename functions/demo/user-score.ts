import {
  InvalidMessageError,
  inboxOptionsFromEnvironment,
  withInbox,
} from '../../lib/consumer/index.js';
import { UserScoreEvents } from '../example/user-score/events.js';
import { handleUserScoreEvent } from '../example/user-score/handler.js';
import { currentFaults } from './config.js';
import { crashingClient, inboxEventId } from './crash.js';

/**
 * The user-score consumer when deployed for fault tests: some invocations die just before
 * or just after one of their transactions, as a process killed mid-flight would, at the
 * rates in EVENTBOX_FAULTS, and the handler may have a bug for one region.
 */
const options = inboxOptionsFromEnvironment();
const crashes = crashingClient(options.tableName, inboxEventId);

/** The example's handler, with the injected bug: a region it does not know. */
const buggy: typeof handleUserScoreEvent = async (event, ctx) => {
  const { poisonRegion } = currentFaults().consumer;
  const region = (event.payload as { region?: unknown }).region;
  if (poisonRegion !== undefined && region === poisonRegion)
    // As a handler that wrongly rejects an input as invalid: dead-lettered at once.
    throw new InvalidMessageError(`unknown region ${poisonRegion} (injected)`);
  return handleUserScoreEvent(event, ctx);
};

const inbox = withInbox(buggy, {
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
