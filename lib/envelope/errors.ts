import { EventBoxError } from '../shared/errors.js';

/** An event (input or received envelope) failed validation; nothing was written or applied. */
export class InvalidEventError extends EventBoxError {
  override name = 'InvalidEventError';

  /** One line per problem, each naming the field, e.g. `aggregate.version: must be at least 1`. */
  readonly problems: readonly string[];
  /** The event type when it could be read, to help find the producer. */
  readonly eventType: string | undefined;

  constructor(problems: readonly string[], eventType?: string, options?: { cause?: unknown }) {
    super(
      `Invalid event${eventType ? ` of type "${eventType}"` : ''}: ${problems.join('; ')}`,
      options,
    );
    this.problems = problems;
    this.eventType = eventType;
  }
}
