import { EventBoxError } from '../shared/errors.js';

/** A message that can never be handled as it is (not an event, invalid envelope, schema failure). */
export class InvalidMessageError extends EventBoxError {
  override name = 'InvalidMessageError';

  constructor(
    readonly reason: string,
    readonly problems: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(
      `Invalid message: ${reason}${problems.length > 0 ? `: ${problems.join('; ')}` : ''}`,
      options,
    );
  }
}

/** An invocation no delivery handles: neither an SQS batch nor an EventBridge event. */
export class UnsupportedInvocationError extends EventBoxError {
  override name = 'UnsupportedInvocationError';
}
