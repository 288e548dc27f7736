/** Capped exponential backoff. */
export interface BackoffOptions {
  /** Delay before the first retry, in milliseconds. */
  readonly baseMs: number;
  /** Upper bound of any delay, in milliseconds. */
  readonly capMs: number;
}

/**
 * "Full jitter": a uniform delay between 0 and min(cap, base * 2^attempt), which spreads
 * retries of many callers better than a fixed schedule.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 * @param attempt 0 for the first retry.
 */
export function jitteredDelay(
  options: BackoffOptions,
  attempt: number,
  random: () => number = Math.random,
): number {
  return Math.floor(random() * exponentialDelay(options, attempt));
}

/** The ceiling of the delay for an attempt, without jitter. */
export function exponentialDelay(options: BackoffOptions, attempt: number): number {
  return Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, attempt));
}
