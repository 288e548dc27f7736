/** Base class of every error Eventbox raises on purpose; catch it to handle them all. */
export class EventBoxError extends Error {
  override name = 'EventBoxError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Options given to a constructor or factory were invalid, unknown or contradictory. */
export class InvalidOptionsError extends EventBoxError {
  override name = 'InvalidOptionsError';

  /** One line per problem, each naming the option path. */
  readonly problems: readonly string[];

  constructor(what: string, problems: readonly string[]) {
    super(`Invalid ${what}: ${problems.join('; ')}`);
    this.problems = problems;
  }
}
