import { relayOptionsFromEnvironment } from '../../../lib/relay/environment.js';
import { createRelayHandler } from '../../../lib/relay/handler.js';

/**
 * The relay Lambda: DynamoDB stream (outbox INSERTs) to EventBridge. Configured by the
 * EventBox construct through the environment.
 */
export const handler = createRelayHandler(relayOptionsFromEnvironment());
