import { InboxDefaults } from '../consumer/options.js';
import { CommandError, UsageError } from './usage-error.js';

const RELATIVE = /^(\d+)(m|h|d)$/;
const UNIT = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A time from the command line: ISO 8601, or "30m", "6h", "2d" ago. */
export function parseTime(option: string, value: string, now = Date.now()): Date {
  const relative = RELATIVE.exec(value);
  const time = relative
    ? new Date(now - Number(relative[1]) * UNIT[relative[2] as keyof typeof UNIT])
    : new Date(value);
  if (Number.isNaN(time.getTime()))
    throw new UsageError(
      `--${option} must be a date and time (ISO 8601) or an age such as 6h or 2d; got ${value}`,
    );
  return time;
}

/**
 * `--since` and `--until`: a window that is not reversed and not in the future. Both are
 * required unless `allowOpen` (a filter), where either may be left out.
 */
export function parseWindow(
  values: { since?: string | undefined; until?: string | undefined },
  options: { readonly allowOpen?: boolean; readonly now?: number } = {},
): { since?: Date; until?: Date } {
  const now = options.now ?? Date.now();
  if (!options.allowOpen && (values.since === undefined || values.until === undefined))
    throw new UsageError('give the window: --since TIME --until TIME');
  const since = values.since === undefined ? undefined : parseTime('since', values.since, now);
  const until = values.until === undefined ? undefined : parseTime('until', values.until, now);
  if (since && until && since.getTime() >= until.getTime())
    throw new UsageError(
      `--since (${since.toISOString()}) must be before --until (${until.toISOString()})`,
    );
  if (since && since.getTime() > now)
    throw new UsageError(`--since (${since.toISOString()}) is in the future`);
  if (until && until.getTime() > now + 60_000)
    throw new UsageError(`--until (${until.toISOString()}) is in the future`);
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

/**
 * How far back the consumers' inbox remembers: the shortest of the deployment's consumers,
 * or, when no deployment was read (`--table` and `--bus` alone) or it has no consumers,
 * the inbox's default, so that the refusal below is never skipped for want of a figure.
 */
export function inboxWindowOf(
  consumers: ReadonlyArray<{ readonly inboxTtlSeconds: number }> | undefined,
): {
  readonly seconds: number;
  readonly known: boolean;
} {
  const known = (consumers ?? []).map((c) => c.inboxTtlSeconds).filter(Number.isFinite);
  return known.length > 0
    ? { seconds: Math.min(...known), known: true }
    : { seconds: InboxDefaults.inboxTtlSeconds, known: false };
}

/** Refuses to send again events older than the consumers' inbox remembers, unless forced. */
export function refuseBeyondInbox(
  since: Date,
  window: ReturnType<typeof inboxWindowOf>,
  force: boolean,
  now: number = Date.now(),
): void {
  if (force || now - since.getTime() <= window.seconds * 1000) return;
  const days = `${window.seconds / 86_400} days`;
  throw new CommandError(
    `--since ${since.toISOString()} is further back than the consumers' inbox remembers (${window.known ? days : `${days}, the default: no deployment says otherwise`}): events they applied would apply again; --force replays anyway`,
  );
}
