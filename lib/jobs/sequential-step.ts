import { visibilityDelaySeconds } from '../shared/backoff.js';
import { Limits } from '../shared/limits.js';
import { itemSize } from '../transaction/item-size.js';
import { nextAttempt, stepArgs } from './decisions.js';
import type { SequentialStepDefinition } from './definition.js';
import { JobRunnerMetrics } from './environment.js';
import { errorText, JobState, storable } from './records.js';
import {
  commitAttempt,
  count,
  type DefinedRun,
  fill,
  iso,
  type Next,
  reload,
  stall,
  stepContext,
  wait,
} from './run.js';
import type { JobView } from './store.js';
import { checkpointed, stepCheckpoint, withStep } from './transitions.js';

/**
 * Runs the current attempt of a sequential step: the attempt is recorded (held by this
 * delivery until its lease) before the step runs, then the step's writes commit with its
 * checkpoint in one transaction. A duplicate delivery finds the checkpoint and moves on.
 */
export async function runStep(
  run: DefinedRun,
  view: JobView,
  index: number,
  step: SequentialStepDefinition,
): Promise<Next> {
  const { definition, delivery } = run;
  const previous = view.steps.get(index);
  const now = run.clock();
  const next = nextAttempt(
    previous,
    delivery.holder,
    now,
    definition.maxAttempts,
    `step "${step.name}"`,
  );
  if (next.kind === 'wait') return wait(run, view, next.reason, next.until);
  const startedAt = previous?.startedAt ?? iso(run, now);
  if (next.kind === 'exhausted') {
    return stall(
      run,
      view,
      `step "${step.name}" failed ${next.attempts} times; last: ${next.error}`,
      stepCheckpoint(view, index, step.name, {
        stepState: 'stalled',
        attempts: next.attempts,
        lastError: next.error,
        startedAt,
      }),
    );
  }
  const { attempt } = next;
  const lastError = next.unfinished ?? previous?.lastError;
  const held = stepCheckpoint(view, index, step.name, {
    stepState: 'running',
    attempts: attempt,
    holder: delivery.holder,
    leaseUntil: iso(run, delivery.leaseUntil),
    startedAt,
    ...(lastError === undefined ? {} : { lastError }),
  });
  const starts = view.job.jobState === JobState.pending;
  const begin = run.store.checkpoint();
  begin.step(held.write, held.previous);
  const startChanges = { jobState: JobState.running, updatedAt: iso(run, now) };
  // A job stalled meanwhile (by another delivery, or a deploy's runner) runs no more.
  if (starts) begin.job(view.job, startChanges);
  else begin.running(view.job);
  if ((await begin.commit()) === 'moved') return reload(run, view);
  const running = withStep(
    { ...view, job: starts ? checkpointed(view.job, startChanges) : view.job },
    held,
  );

  const checkpoint = run.store.checkpoint();
  let value: unknown;
  try {
    value = await step.run({
      ...stepArgs(running, definition),
      ctx: stepContext(run, checkpoint.tx, running.job, step.name, attempt),
    });
  } catch (error) {
    return stepFailed(run, running, index, step.name, attempt, error);
  }
  const stalled = (reason: string) =>
    stall(
      run,
      running,
      reason,
      stepCheckpoint(running, index, step.name, {
        stepState: 'stalled',
        attempts: attempt,
        lastError: reason,
        startedAt,
      }),
    );
  const stored = storable(value);
  if ('problem' in stored)
    return stalled(`step "${step.name}" returned a value that cannot be stored: ${stored.problem}`);
  const done = stepCheckpoint(running, index, step.name, {
    stepState: 'succeeded',
    attempts: attempt,
    result: stored.json,
    startedAt,
    finishedAt: iso(run),
  });
  const size = itemSize(done.committed);
  if (size > Limits.maxItemBytes) {
    return stalled(
      `the result of step "${step.name}" would make its record ${size} bytes, over DynamoDB's ${Limits.maxItemBytes}-byte item limit`,
    );
  }
  const unplanned = fill(() => {
    checkpoint.step(done.write, done.previous);
    checkpoint.running(view.job);
  });
  if (unplanned)
    return stalled(
      `step "${step.name}": its writes and checkpoint cannot be committed: ${unplanned}`,
    );
  const committed = await commitAttempt(run, checkpoint, (release) => {
    const given = stepCheckpoint(running, index, step.name, {
      stepState: 'running',
      attempts: attempt - 1,
      startedAt,
      ...(lastError === undefined ? {} : { lastError }),
    });
    release.step(given.write, given.previous);
  });
  if (typeof committed === 'object')
    return stepFailed(run, running, index, step.name, attempt, committed.failed);
  if (committed === 'moved') return reload(run, running);
  count(run, JobRunnerMetrics.stepsCompleted);
  return { view: withStep(running, done) };
}

/** A failed attempt: recorded with its backoff, or, the last one, the job stalls at the step. */
async function stepFailed(
  run: DefinedRun,
  view: JobView,
  index: number,
  step: string,
  attempt: number,
  error: unknown,
): Promise<Next> {
  const { definition } = run;
  const lastError = errorText(error);
  const startedAt = view.steps.get(index)?.startedAt;
  run.logger.warn('step failed', { jobId: view.job.jobId, step, attempt, error });
  const since = startedAt === undefined ? {} : { startedAt };
  if (attempt >= definition.maxAttempts) {
    return stall(
      run,
      view,
      `step "${step}" failed ${attempt} times; last: ${lastError}`,
      stepCheckpoint(view, index, step, {
        stepState: 'stalled',
        attempts: attempt,
        lastError,
        ...since,
      }),
    );
  }
  const delaySeconds = visibilityDelaySeconds(definition.backoff, attempt);
  const failed = stepCheckpoint(view, index, step, {
    stepState: 'running',
    attempts: attempt,
    lastError,
    notBefore: iso(run, run.clock() + delaySeconds * 1000),
    ...since,
  });
  const checkpoint = run.store.checkpoint();
  checkpoint.step(failed.write, failed.previous);
  if ((await checkpoint.commit()) === 'moved') return reload(run, view);
  return {
    outcome: {
      status: 'retry',
      kind: 'step',
      event: run.delivery.event,
      reason: `step "${step}" of job ${view.job.jobId} failed (attempt ${attempt} of ${definition.maxAttempts}): ${lastError}`,
      delaySeconds,
    },
  };
}
