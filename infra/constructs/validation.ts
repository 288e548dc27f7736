import { Token } from 'aws-cdk-lib';

/** Throws when a number prop is outside its range; unresolved tokens are left to CloudFormation. */
export function checkRange(
  name: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}; got ${value}`);
  }
}

/** Throws when both the existing resource and props for a new one are given. */
export function checkExclusive(
  existing: string,
  props: string,
  given: { existing: unknown; props: unknown },
): void {
  if (given.existing !== undefined && given.props !== undefined) {
    throw new Error(`Give either ${existing} or ${props}, not both`);
  }
}
