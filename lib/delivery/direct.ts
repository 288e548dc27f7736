import { EventBoxError } from '../shared/errors.js';
import { UnsupportedInvocationError } from './errors.js';
import type { InboxMessage } from './messages.js';
import type { Outcome } from './outcome.js';
import type { Settler } from './settle.js';

/** Thrown to Lambda when an event delivered directly by EventBridge must be retried. */
export class InboxRetryError extends EventBoxError {
  override name = 'InboxRetryError';
}

/**
 * Refuses an event EventBridge delivered directly when a failure would have nowhere to go:
 * Lambda retries an asynchronous invocation twice and then drops it, unless the function
 * has an on-failure destination, and the SQS receive count that paces retries is not there.
 */
export function refuseUndeliverable(options: {
  readonly deadLetterQueueUrl?: string;
  readonly failureDestination?: boolean;
}): void {
  if (options.deadLetterQueueUrl || options.failureDestination) return;
  throw new UnsupportedInvocationError(
    'An EventBridge event delivered directly has nowhere to go if it fails: Lambda drops it after two retries. Deliver through an SQS queue (EventBoxConsumer does), or give the function an on-failure destination and set failureDestination: true, or set deadLetterQueueUrl',
  );
}

/** Settles a direct delivery: resolves when it is done, throws so that Lambda retries it otherwise. */
export async function settleDirect(
  settler: Settler,
  message: InboxMessage,
  outcome: Outcome,
): Promise<void> {
  if (await settler.settle(message, outcome)) return;
  const why =
    outcome.status === 'retry' || outcome.status === 'dead-letter'
      ? outcome.reason
      : outcome.status === 'failed'
        ? outcome.error instanceof Error
          ? outcome.error.message
          : String(outcome.error)
        : outcome.status;
  throw new InboxRetryError(`Event ${message.messageId} was not handled; retry: ${why}`);
}
