import { EventBoxError } from '../shared/errors.js';

/**
 * Thrown by a handler when a causal predecessor of the event has not been applied yet.
 * The message comes back later with backoff; after the maximum attempts it goes to the
 * dead-letter queue with this reason.
 */
export class NotYetError extends EventBoxError {
  override name = 'NotYetError';

  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Not yet: ${reason}`, options);
  }
}

/**
 * In lock-then-complete mode, another invocation holds the lock on this event: it is being
 * handled right now. The message is retried after the lock expires.
 */
export class EventLockedError extends EventBoxError {
  override name = 'EventLockedError';

  constructor(
    readonly eventId: string,
    readonly lockExpiresAt: number,
  ) {
    super(
      `Event ${eventId} is being handled by another invocation until ${new Date(lockExpiresAt).toISOString()}`,
    );
  }
}

export { InvalidMessageError, UnsupportedInvocationError } from '../delivery/errors.js';
