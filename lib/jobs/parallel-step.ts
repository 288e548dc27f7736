import { visibilityDelaySeconds } from '../shared/backoff.js';
import { Limits } from '../shared/limits.js';
import { itemSize } from '../transaction/item-size.js';
import { aggregate } from './aggregation.js';
import { nextAttempt, stepArgs } from './decisions.js';
import type { ParallelStepDefinition } from './definition.js';
import { JobRunnerMetrics } from './environment.js';
import type { JobEventPayload } from './messages.js';
import { errorText, JobKeys, JobState, storable, type TaskRecord, TaskState } from './records.js';
import {
  commitAttempt,
  count,
  type DefinedRun,
  fill,
  handled,
  iso,
  type Next,
  reload,
  stall,
  stepContext,
  taskMessages,
  wait,
} from './run.js';
import type { JobView } from './store.js';
import { stepCheckpoint } from './transitions.js';

/** Starts a parallel step: its task records and one message per task, with the checkpoint. */
export async function fanOut(
  run: DefinedRun,
  view: JobView,
  index: number,
  step: ParallelStepDefinition,
): Promise<Next> {
  const { job } = view;
  const now = iso(run);
  const tasks = Object.keys(step.tasks);
  const checkpoint = run.store.checkpoint();
  for (const task of tasks) checkpoint.createTask({ jobId: job.jobId, stepIndex: index, task });
  const started = stepCheckpoint(view, index, step.name, {
    stepState: 'running',
    attempts: 0,
    startedAt: now,
  });
  checkpoint.step(started.write, started.previous);
  checkpoint.job(job, {
    jobState: JobState.running,
    phase: 'tasks',
    phaseStep: index,
    round: 1,
    claim: undefined,
    claimUntil: undefined,
    updatedAt: now,
  });
  checkpoint.publish(job.version + 1, taskMessages(job, run.store.tableName, index, tasks, 1));
  if ((await checkpoint.commit()) === 'moved') return reload(run, view);
  return handled(run);
}

/**
 * Runs the current attempt of one task, from its message: recorded before it runs, then
 * its writes commit with its checkpoint. A finished task never runs again; the delivery
 * that finishes the last one goes on to aggregate.
 */
export async function runTask(
  run: DefinedRun,
  view: JobView,
  message: JobEventPayload,
): Promise<Next> {
  const { definition, delivery } = run;
  const { job } = view;
  const { stepIndex = -1, task: name = '', round = 1 } = message;
  const step = definition.steps[stepIndex];
  const work = step?.kind === 'parallel' ? step.tasks[name] : undefined;
  if (step?.kind !== 'parallel' || !work) {
    return stall(
      run,
      view,
      `task "${name}" of step ${stepIndex} is not in the definition of job "${job.name}"`,
    );
  }
  // A message of an earlier step or round: that task is done, but the invocation that went
  // on from it may have died, so carry on from the job's checkpoint.
  if (job.jobState !== JobState.running || job.phase === undefined || job.phaseStep !== stepIndex)
    return { view };
  const task = view.tasks.find((t) => t.stepIndex === stepIndex && t.task === name);
  if (!task || task.round !== round) return { view };
  // Finished before (a redelivery after a crash): never again; see whether to aggregate.
  if (task.taskState !== TaskState.pending) return aggregate(run, view, stepIndex, step);

  const now = run.clock();
  const what = `task "${name}" of step "${step.name}"`;
  const next = nextAttempt(task, delivery.holder, now, step.maxTaskAttempts, what);
  if (next.kind === 'wait') return wait(run, view, next.reason, next.until);
  const failed = (current: TaskRecord, attempts: number, error: unknown) =>
    taskFailed(run, view, stepIndex, step, current, attempts, error);
  if (next.kind === 'exhausted') return failed(task, next.attempts, new Error(next.error));
  const startedAt = task.startedAt ?? iso(run, now);
  // The attempt is recorded before it runs, so a timeout or crash in it still counts.
  const { attempt } = next;
  const holding = {
    attempts: attempt,
    holder: delivery.holder,
    leaseUntil: iso(run, delivery.leaseUntil),
    startedAt,
    notBefore: undefined,
    ...(next.unfinished === undefined ? {} : { lastError: next.unfinished }),
  };
  const begin = run.store.checkpoint();
  begin.task(task, holding);
  if ((await begin.commit()) === 'moved') {
    const latest = await reload(run, view);
    return 'outcome' in latest ? latest : runTask(run, latest.view, message);
  }
  const held = { ...task, ...holding, version: task.version + 1 } as TaskRecord;

  const checkpoint = run.store.checkpoint();
  let value: unknown;
  try {
    value = await work({
      ...stepArgs(view, definition),
      ctx: stepContext(run, checkpoint.tx, job, step.name, attempt, name),
    });
  } catch (error) {
    return failed(held, attempt, error);
  }
  const stored = storable(value);
  if ('problem' in stored) {
    return failed(
      held,
      step.maxTaskAttempts,
      new Error(`returned a value that cannot be stored: ${stored.problem}`),
    );
  }
  const done = {
    taskState: TaskState.succeeded,
    attempts: attempt,
    result: stored.json,
    startedAt,
    finishedAt: iso(run),
    holder: undefined,
    leaseUntil: undefined,
  };
  // The whole record as the update leaves it: its other fields count against the limit too.
  const size = itemSize({ ...held, ...done, _eventbox: JobKeys.taskMarker });
  const unplanned =
    size > Limits.maxItemBytes
      ? `the result would make its record ${size} bytes, over DynamoDB's ${Limits.maxItemBytes}-byte item limit`
      : fill(() => checkpoint.task(held, done));
  // A result over the item limit, or writes over the transaction's: no retry can commit
  // them, so the task fails for good and the aggregator decides.
  if (unplanned)
    return failed(
      held,
      step.maxTaskAttempts,
      new Error(`its result and writes cannot be committed: ${unplanned}`),
    );
  const committed = await commitAttempt(run, checkpoint, (release) =>
    release.task(held, { attempts: task.attempts, holder: undefined, leaseUntil: undefined }),
  );
  if (typeof committed === 'object') return failed(held, attempt, committed.failed);
  // Another delivery of this task checkpointed first and ours wrote nothing; that one may
  // have died before aggregating, so see whether to.
  if (committed === 'committed') count(run, JobRunnerMetrics.tasksCompleted);
  return aggregate(run, view, stepIndex, step);
}

/** A failed attempt: recorded with its backoff, or, the last one, the task fails for good. */
async function taskFailed(
  run: DefinedRun,
  view: JobView,
  stepIndex: number,
  step: ParallelStepDefinition,
  task: TaskRecord,
  attempt: number,
  error: unknown,
): Promise<Next> {
  const lastError = errorText(error);
  run.logger.warn('task failed', {
    jobId: view.job.jobId,
    step: step.name,
    task: task.task,
    attempt,
    error,
  });
  const final = attempt >= step.maxTaskAttempts;
  const delaySeconds = visibilityDelaySeconds(run.definition.backoff, attempt);
  const checkpoint = run.store.checkpoint();
  checkpoint.task(task, {
    ...(final
      ? { taskState: TaskState.failed, finishedAt: iso(run) }
      : { notBefore: iso(run, run.clock() + delaySeconds * 1000) }),
    attempts: attempt,
    lastError,
    holder: undefined,
    leaseUntil: undefined,
  });
  if ((await checkpoint.commit()) === 'moved') return handled(run);
  if (final) return aggregate(run, view, stepIndex, step);
  return {
    outcome: {
      status: 'retry',
      kind: 'task',
      event: run.delivery.event,
      reason: `task "${task.task}" of step "${step.name}" of job ${view.job.jobId} failed (attempt ${attempt} of ${step.maxTaskAttempts}): ${lastError}`,
      delaySeconds,
    },
  };
}
