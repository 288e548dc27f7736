import { type AttemptFields, attemptState } from './attempts.js';
import type { AggregatorDecision, JobDefinition, TaskOutcome } from './definition.js';
import { storable, type TaskRecord, TaskState } from './records.js';
import type { JobView } from './store.js';

/**
 * What the runner reads from records and from what user code returned, as data: pure, so
 * each rule is unit-tested on its own.
 */

/**
 * Whether a delivery may start the next attempt of a step or task (`what` names it):
 * - `wait`: another invocation holds the current attempt, or the backoff runs, until `until`;
 * - `exhausted`: the attempt in flight never ended (its holder died, or this delivery's own
 *   did not end) and it was the last one allowed;
 * - `run`: attempt number `attempt`, with `unfinished` the error of an attempt that never ended.
 */
export type AttemptDecision =
  | { readonly kind: 'wait'; readonly reason: string; readonly until: number }
  | { readonly kind: 'exhausted'; readonly attempts: number; readonly error: string }
  | { readonly kind: 'run'; readonly attempt: number; readonly unfinished?: string };

export function nextAttempt(
  record: AttemptFields | undefined,
  holder: string,
  now: number,
  maxAttempts: number,
  what: string,
): AttemptDecision {
  const state = attemptState(record, holder, now);
  if (state.kind === 'held')
    return {
      kind: 'wait',
      reason: `attempt ${record?.attempts} of ${what} is running in another invocation`,
      until: state.until,
    };
  if (state.kind === 'free' && state.notBefore !== undefined)
    return { kind: 'wait', reason: `${what} waits out its backoff`, until: state.notBefore };
  const used = record?.attempts ?? 0;
  // Its holder died, or this delivery's own attempt never ended (it moved on from a
  // checkpoint that did not commit): either way it counts.
  const unfinished =
    state.kind === 'died'
      ? state.error
      : record?.holder === holder
        ? `attempt ${used} did not end`
        : undefined;
  if (unfinished === undefined) return { kind: 'run', attempt: used + 1 };
  if (used >= maxAttempts) return { kind: 'exhausted', attempts: used, error: unfinished };
  return { kind: 'run', attempt: used + 1, unfinished };
}

/** What an aggregator decided, read against its step's tasks and rounds. */
export type ReadDecision =
  | { readonly kind: 'continue'; readonly json: string }
  | { readonly kind: 'fail'; readonly reason: string }
  | { readonly kind: 'retry'; readonly tasks: readonly string[] }
  /** The decision cannot be carried out: the job stalls with the reason. */
  | { readonly kind: 'stall'; readonly reason: string };

export function readDecision(
  decision: AggregatorDecision<unknown>,
  step: { readonly name: string; readonly maxRounds: number },
  tasks: readonly TaskRecord[],
  round: number,
): ReadDecision {
  const of = `the aggregator of step "${step.name}"`;
  if (decision && typeof decision === 'object' && 'continue' in decision) {
    const stored = storable(decision.continue);
    return 'problem' in stored
      ? { kind: 'stall', reason: `${of} returned a value that cannot be stored: ${stored.problem}` }
      : { kind: 'continue', json: stored.json };
  }
  if (decision && typeof decision === 'object' && 'fail' in decision)
    return { kind: 'fail', reason: String(decision.fail) };
  if (
    decision &&
    typeof decision === 'object' &&
    'retry' in decision &&
    Array.isArray(decision.retry)
  ) {
    const failed = new Set(
      tasks.filter((t) => t.taskState === TaskState.failed).map((t) => t.task),
    );
    const retry = decision.retry as readonly string[];
    const wrong = retry.filter((name) => !failed.has(name));
    if (retry.length === 0 || wrong.length > 0)
      return {
        kind: 'stall',
        reason: `${of} asked to retry ${JSON.stringify(retry)}, but only failed tasks can be retried (${[...failed].join(', ') || 'none failed'})`,
      };
    if (round >= step.maxRounds)
      return {
        kind: 'stall',
        reason: `step "${step.name}": tasks ${retry.join(', ')} still failing after ${round} rounds`,
      };
    return { kind: 'retry', tasks: retry };
  }
  return {
    kind: 'stall',
    reason: `${of} returned ${JSON.stringify(decision)}; it must return { continue }, { retry: [...] } or { fail }`,
  };
}

/** How each task of a step ended, as its aggregator sees it. */
export function taskOutcomes(tasks: readonly TaskRecord[]): Record<string, TaskOutcome> {
  return Object.fromEntries(
    tasks.map((t): [string, TaskOutcome] => [
      t.task,
      {
        state: t.taskState === TaskState.succeeded ? 'succeeded' : 'failed',
        ...(t.result === undefined ? {} : { result: JSON.parse(t.result) as unknown }),
        ...(t.lastError === undefined ? {} : { error: t.lastError }),
        attempts: t.attempts,
      },
    ]),
  );
}

/** The job's input and what its steps returned so far, by step name: what a step gets. */
export function stepArgs(
  view: JobView,
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any input and results
  definition: JobDefinition<any, any>,
): { readonly input: unknown; readonly results: Record<string, unknown> } {
  const results: Record<string, unknown> = {};
  for (const [index, record] of view.steps) {
    const name = definition.steps[index]?.name ?? record.step;
    if (record.stepState === 'succeeded' && record.result !== undefined)
      results[name] = JSON.parse(record.result) as unknown;
  }
  return { input: JSON.parse(view.job.input) as unknown, results };
}
