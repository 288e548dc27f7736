import { type Duration, Token } from 'aws-cdk-lib';
import { ConsumerEnvironment } from '../../lib/consumer/environment.js';
import { JobRunnerEnvironment } from '../../lib/jobs/environment.js';
import { RelayEnvironment } from '../../lib/relay/environment.js';
import { EventBoxError } from '../../lib/shared/errors.js';

/** Every variable Eventbox's constructs set on a function, whichever runtime it is. */
const EVENTBOX_VARIABLES: ReadonlySet<string> = new Set(
  [ConsumerEnvironment, RelayEnvironment, JobRunnerEnvironment].flatMap((t) => Object.values(t)),
);

/** A construct's props are out of range, contradictory or collide with Eventbox's own settings. */
export class InvalidPropsError extends EventBoxError {
  override name = 'InvalidPropsError';
}

/** Throws when a number prop is outside its range; unresolved tokens are left to CloudFormation. */
export function checkRange(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidPropsError(`${name} must be an integer from ${min} to ${max}; got ${value}`);
  }
}

/** Throws when a duration prop is outside its range, in seconds; unresolved tokens are left alone. */
export function checkSeconds(
  name: string,
  value: Duration | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined || value.isUnresolved()) return;
  checkRange(`${name} (seconds)`, value.toSeconds(), min, max);
}

/** Throws when both the existing resource and props for a new one are given. */
export function checkExclusive(
  existing: string,
  props: string,
  given: { existing: unknown; props: unknown },
): void {
  if (given.existing !== undefined && given.props !== undefined) {
    throw new InvalidPropsError(`Give either ${existing} or ${props}, not both`);
  }
}

/**
 * Throws when a user's `environment` names a variable Eventbox sets itself: the construct's
 * value would silently replace the user's, or the user's would misconfigure the runtime.
 */
export function checkOwnEnvironment(
  what: string,
  environment: Readonly<Record<string, string>> | undefined,
): void {
  const clashes = Object.keys(environment ?? {}).filter((name) => EVENTBOX_VARIABLES.has(name));
  if (clashes.length === 0) return;
  throw new InvalidPropsError(
    `environment of ${what} names ${clashes.join(', ')}, which Eventbox sets itself from the construct's props; rename your variable${clashes.length > 1 ? 's' : ''} (Eventbox's own all start with EVENTBOX_, besides POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE)`,
  );
}
