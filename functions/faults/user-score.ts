import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { inboxOptionsFromEnvironment, withInbox } from '../../lib/consumer/index.js';
import { UserScoreEvents } from '../example/user-score/events.js';
import { handleUserScoreEvent } from '../example/user-score/handler.js';
import { currentFaults } from './config.js';

/**
 * The user-score consumer when deployed for fault tests: some invocations die just before
 * or just after one of their transactions, as a process killed mid-flight would, at the
 * rates in EVENTBOX_FAULTS.
 */
type Crash = 'before' | 'after' | undefined;
let armed: Crash;

const client = new DynamoDBClient({});
client.middlewareStack.add(
  (next, context) => async (args) => {
    if (context.commandName !== 'TransactWriteItemsCommand' || armed === undefined)
      return next(args);
    const when = armed;
    armed = undefined;
    if (when === 'before') process.exit(137);
    const result = await next(args);
    process.exit(137);
    return result;
  },
  { step: 'initialize', name: 'crashFaults' },
);

const inbox = withInbox(handleUserScoreEvent, {
  ...inboxOptionsFromEnvironment(),
  client,
  schemas: UserScoreEvents,
});

export async function handler(event: unknown) {
  const { crashBeforeCommit, crashAfterCommit } = currentFaults().consumer;
  const roll = Math.random();
  armed =
    roll < crashBeforeCommit
      ? 'before'
      : roll < crashBeforeCommit + crashAfterCommit
        ? 'after'
        : undefined;
  try {
    return await inbox(event);
  } finally {
    armed = undefined;
  }
}
