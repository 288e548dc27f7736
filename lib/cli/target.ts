import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { type MarkedResource, markedResources } from './stack.js';
import { UsageError } from './usage-error.js';

/** Options every command that reads a deployment takes. */
export const targetOptions = {
  stack: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** The stack's marked resources, from `--stack` or `EVENTBOX_STACK`. */
export async function stackResources(values: {
  stack?: string | undefined;
}): Promise<MarkedResource[]> {
  const stack = values.stack ?? process.env.EVENTBOX_STACK;
  if (!stack) throw new UsageError('name the deployment: --stack <name> (or set EVENTBOX_STACK)');
  return markedResources(new CloudFormationClient(operatorClientConfig()), stack);
}

/**
 * SDK client settings of the operator's commands: 8 attempts rather than 3, unless
 * AWS_MAX_ATTEMPTS is set (the 8 also wins over `max_attempts` in the AWS config file).
 * No deadline waits on a command line, and a throttled send the SDK gives up on is a
 * letter left for another round.
 */
export function operatorClientConfig(): { maxAttempts?: number } {
  return process.env.AWS_MAX_ATTEMPTS ? {} : { maxAttempts: 8 };
}
