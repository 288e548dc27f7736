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

/**
 * Seconds a message waits before its next attempt: min(cap, base × 2^(attempt−1)), half
 * fixed and half jittered, so it never comes back at once and a burst spreads out; at most
 * SQS's 12-hour visibility limit.
 */
export function visibilityDelaySeconds(
  backoff: { readonly baseSeconds: number; readonly capSeconds: number },
  attempt: number,
): number {
  const ceiling = Math.min(backoff.capSeconds, backoff.baseSeconds * 2 ** Math.max(0, attempt - 1));
  return Math.min(
    43_200,
    Math.ceil(ceiling / 2 + jitteredDelay({ baseMs: ceiling / 2, capMs: ceiling / 2 }, 0)),
  );
}
