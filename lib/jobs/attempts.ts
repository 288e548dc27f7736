import type { EventEnvelope } from '../envelope/envelope.js';

/**
 * One delivery of a job message, as the runner carries it through a step or task: the
 * message, who runs it (an id of this invocation) and until when it may hold an attempt.
 */
export interface Delivery {
  readonly event: EventEnvelope;
  /** Unique to this delivery: what an attempt's `holder` and an aggregation's `claim` name. */
  readonly holder: string;
  /** When this invocation ends at the latest (its deadline), in ms since the epoch. */
  readonly leaseUntil: number;
  /** The queue will not bring this message back: it was received `maxReceiveCount` times. */
  readonly last: boolean;
}

/**
 * What an attempt record (a step's or a task's) says of its current attempt. An attempt is
 * recorded, with its holder and lease, before its work starts, so an invocation that times
 * out or dies mid-attempt has still used it up.
 * - `free`: no attempt in flight; the next may start (after `notBefore`, its backoff).
 * - `held`: another invocation runs it until `until`: wait, do not run it twice at once.
 * - `died`: its holder's lease ran out before it ended: a timeout or crash, counted.
 */
export type AttemptState =
  | { readonly kind: 'free'; readonly notBefore?: number }
  | { readonly kind: 'held'; readonly until: number }
  | { readonly kind: 'died'; readonly error: string };

export interface AttemptFields {
  readonly attempts: number;
  readonly holder?: string;
  readonly leaseUntil?: string;
  readonly notBefore?: string;
}

export function attemptState(
  record: AttemptFields | undefined,
  holder: string,
  now: number,
): AttemptState {
  if (!record?.holder || record.holder === holder) {
    const notBefore = record?.notBefore ? Date.parse(record.notBefore) : undefined;
    return notBefore !== undefined && notBefore > now
      ? { kind: 'free', notBefore }
      : { kind: 'free' };
  }
  const until = record.leaseUntil ? Date.parse(record.leaseUntil) : 0;
  if (until > now) return { kind: 'held', until };
  return {
    kind: 'died',
    error: `attempt ${record.attempts} did not finish: its invocation timed out or died before it ended (held until ${record.leaseUntil ?? 'unknown'})`,
  };
}

/** Whole seconds from `now` until `at`, at least one. */
export function secondsUntil(at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000));
}
