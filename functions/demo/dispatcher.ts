import { inboxOptionsFromEnvironment } from '../../lib/consumer/index.js';
import { createExecutionDispatcher } from '../../lib/jobs/index.js';
import { currentFaults } from './config.js';
import { crashingClient, inboxEventId } from './crash.js';

/**
 * The execution dispatcher when deployed for fault tests: an invocation dies just before
 * its transaction, that is after it started the execution and before it recorded it, at
 * the consumer crash rates of EVENTBOX_FAULTS.
 */
const options = inboxOptionsFromEnvironment();
const crashes = crashingClient(options.tableName, inboxEventId);
const dispatcher = createExecutionDispatcher({ ...options, client: crashes.client });

export async function handler(event: unknown) {
  crashes.arm(currentFaults().consumer);
  try {
    return await dispatcher(event);
  } finally {
    crashes.disarm();
  }
}
