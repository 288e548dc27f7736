import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { createRelayHandler, relayOptionsFromEnvironment } from '../../lib/relay/index.js';
import { injectPutEventsFaults } from './put-events-faults.js';

/**
 * The example app's relay when deployed for fault tests: Eventbox's relay, with an
 * EventBridge client that fails as configured in EVENTBOX_FAULTS.
 */
const relay = createRelayHandler({
  ...relayOptionsFromEnvironment(),
  eventBridgeClient: injectPutEventsFaults(new EventBridgeClient({})),
});

/**
 * Where the stream's event source mapping drops `batchItemFailures` (ministack 1.5.33
 * does; AWS does not), a partial answer would lose the records it names. There the test
 * setup sets EVENTBOX_STREAM_PARTIAL_BATCH=unsupported, and this turns such an answer
 * into a function error, which every implementation retries.
 */
export async function handler(event: DynamoDBStreamEvent, context: Context) {
  const response = await relay(event, context);
  if (
    response.batchItemFailures.length > 0 &&
    process.env.EVENTBOX_STREAM_PARTIAL_BATCH === 'unsupported'
  ) {
    throw new Error(
      `${response.batchItemFailures.length} record(s) unpublished; retrying the batch`,
    );
  }
  return response;
}
