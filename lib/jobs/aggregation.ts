import { readDecision, stepArgs, taskOutcomes } from './decisions.js';
import type { AggregatorDecision, ParallelStepDefinition } from './definition.js';
import { JobRunnerMetrics } from './environment.js';
import { JobEvent } from './messages.js';
import { errorText, type JobRecord, JobState, TaskState } from './records.js';
import {
  count,
  type DefinedRun,
  fill,
  handled,
  iso,
  type Next,
  notice,
  stall,
  stepContext,
  taskMessages,
  wait,
} from './run.js';
import type { JobView } from './store.js';
import {
  checkpointed,
  nextRound,
  stepCheckpoint,
  tasksOf,
  unclaimed,
  withStep,
} from './transitions.js';

/**
 * When every task of the step has ended: claims the aggregation (one invocation at a
 * time, until its deadline), runs the aggregator, and commits its decision with its
 * writes. A claim whose holder died is taken over when its lease runs out.
 */
export async function aggregate(
  run: DefinedRun,
  seen: JobView,
  index: number,
  step: ParallelStepDefinition,
): Promise<Next> {
  const { delivery } = run;
  const latest = await run.store.read(seen.job.jobId);
  if (!latest) return handled(run);
  const tasks = tasksOf(latest, index);
  if (tasks.length === 0 || tasks.some((t) => t.taskState === TaskState.pending))
    return handled(run);
  let job: JobRecord | undefined = latest.job;
  if (job.jobState !== JobState.running || job.phaseStep !== index) return handled(run);
  const claimedUntil = (record: JobRecord) =>
    record.phase === 'aggregating' && record.claimUntil ? Date.parse(record.claimUntil) : 0;
  const holdsIt = (record: JobRecord | undefined) =>
    record?.jobState === JobState.running &&
    record.phaseStep === index &&
    record.phase === 'aggregating' &&
    record.claim === delivery.holder;
  const now = run.clock();
  if (!holdsIt(job) && claimedUntil(job) <= now)
    job = await run.store.claimAggregation(job, delivery.holder, {
      now: iso(run, now),
      until: iso(run, delivery.leaseUntil),
    });
  if (!job) return handled(run);
  // Another invocation runs the aggregator: wait for its decision, or for its lease to run out.
  if (!holdsIt(job)) {
    return claimedUntil(job) > now && job.phaseStep === index
      ? wait(
          run,
          { ...latest, job },
          `the aggregator of step "${step.name}" is running in another invocation`,
          claimedUntil(job),
        )
      : handled(run);
  }
  return decide(run, { ...latest, job }, index, step);
}

/** Runs the aggregator this delivery holds the claim of, and commits what it decided. */
async function decide(
  run: DefinedRun,
  view: JobView,
  index: number,
  step: ParallelStepDefinition,
): Promise<Next> {
  const { job } = view;
  const tasks = tasksOf(view, index);
  const round = job.round ?? 1;
  const checkpoint = run.store.checkpoint();
  let decision: AggregatorDecision<unknown>;
  try {
    decision = await step.aggregate({
      ...stepArgs(view, run.definition),
      tasks: taskOutcomes(tasks),
      round,
      ctx: stepContext(run, checkpoint.tx, job, step.name, round),
    });
  } catch (error) {
    return stall(run, view, `the aggregator of step "${step.name}" threw: ${errorText(error)}`);
  }
  const read = readDecision(decision, step, tasks, round);
  if (read.kind === 'stall') return stall(run, view, read.reason);
  const at = iso(run);
  const cannot = `the decision of the aggregator of step "${step.name}" cannot be committed with its writes`;
  const released = { ...unclaimed, updatedAt: at };
  const { tableName } = run.store;
  if (read.kind === 'continue') {
    const done = stepCheckpoint(view, index, step.name, {
      stepState: 'succeeded',
      attempts: round,
      result: read.json,
      startedAt: view.steps.get(index)?.startedAt ?? at,
      finishedAt: at,
    });
    const changes = { ...released, phase: undefined, phaseStep: undefined, round: undefined };
    const unplanned = fill(() => {
      checkpoint.step(done.write, done.previous);
      checkpoint.job(job, changes);
    });
    if (unplanned) return stall(run, view, `${cannot}: ${unplanned}`);
    if ((await checkpoint.commit()) === 'moved') return handled(run);
    count(run, JobRunnerMetrics.stepsCompleted);
    // The next steps run in this invocation, from the checkpoint just committed.
    return { view: withStep({ ...view, job: checkpointed(job, changes) }, done) };
  }
  if (read.kind === 'fail') {
    const unplanned = fill(() => {
      checkpoint.job(job, {
        ...released,
        jobState: JobState.failed,
        reason: read.reason,
        finishedAt: at,
      });
      checkpoint.publish(job.version + 1, notice(job, tableName, JobEvent.failed, read.reason));
    });
    if (unplanned) return stall(run, view, `${cannot}: ${unplanned}`);
    if ((await checkpoint.commit()) === 'moved') return handled(run);
    count(run, JobRunnerMetrics.jobsFailed);
    run.logger.warn('job failed', { jobId: job.jobId, reason: read.reason });
    return handled(run);
  }
  const again = nextRound(job, at);
  const unplanned = fill(() => {
    for (const task of tasks.filter((t) => read.tasks.includes(t.task)))
      checkpoint.task(task, again.task);
    checkpoint.job(job, again.job);
    checkpoint.publish(
      job.version + 1,
      taskMessages(job, tableName, index, read.tasks, again.round),
    );
  });
  if (unplanned) return stall(run, view, `${cannot}: ${unplanned}`);
  if ((await checkpoint.commit()) === 'moved') return handled(run);
  count(run, JobRunnerMetrics.taskRounds);
  return handled(run);
}
