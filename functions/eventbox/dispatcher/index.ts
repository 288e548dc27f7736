import { inboxOptionsFromEnvironment } from '../../../lib/consumer/environment.js';
import { createExecutionDispatcher } from '../../../lib/jobs/dispatcher.js';

/**
 * The execution dispatcher Lambda: starts the Step Functions and durable executions that
 * transactions published, once each. Configured by the JobRunner construct.
 */
export const handler = createExecutionDispatcher(inboxOptionsFromEnvironment());
