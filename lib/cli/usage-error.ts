import { EventBoxError } from '../shared/errors.js';

/** The command line was wrong: printed as one line with the usage hint, exit code 2. */
export class UsageError extends EventBoxError {
  override name = 'UsageError';
}

/** A command could not do what was asked (unknown resource, nothing to do): one line, exit code 1. */
export class CommandError extends EventBoxError {
  override name = 'CommandError';
}
