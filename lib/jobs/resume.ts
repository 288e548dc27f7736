import { randomUUID } from 'node:crypto';
import { JobNotFoundError, JobNotResumableError, JobResumeConflictError } from './errors.js';
import { JobEvent, type JobEventInput } from './messages.js';
import { JobState, TaskState } from './records.js';
import { taskMessages } from './run.js';
import { currentStep, type JobStore, type JobView } from './store.js';
import { nextRound, tasksOf, unclaimed } from './transitions.js';

/** Tries of a resume whose checkpoint found the job moved on meanwhile. */
const TRIES = 5;

/**
 * Resumes a job: re-runs only what is not done; finished steps and tasks never run again.
 * - Stalled: at a step, its attempts start again; at a parallel step, the failed tasks run
 *   again alone in a new round (or, when none failed, the aggregator runs again).
 * - Pending or running (its message is gone: deleted, dead-lettered, expired): its
 *   messages go out again, a job message and one per pending task, attempts untouched.
 *   A copy of a message still in flight is harmless: an attempt runs in one invocation at
 *   a time and every checkpoint is guarded.
 * A job that moved on while it was read (a decision in flight committed) is read again.
 * @throws JobNotFoundError, JobNotResumableError (the job succeeded or failed), JobResumeConflictError
 */
export async function resumeJob(store: JobStore, jobId: string, now: () => Date): Promise<void> {
  for (let tries = 1; tries <= TRIES; tries++) {
    const view = await store.read(jobId);
    if (!view) throw new JobNotFoundError(jobId);
    const { job } = view;
    if (job.jobState === JobState.succeeded || job.jobState === JobState.failed)
      throw new JobNotResumableError(jobId, job.jobState);
    if (job.jobState !== JobState.stalled) {
      // Nothing of the job changes: a checkpoint or decision in flight still commits.
      await store.publishOnce(messagesAgain(store, view), {
        type: 'JobResume',
        id: `${jobId}/${randomUUID()}`,
      });
      return;
    }
    if ((await unstall(store, view, now())) === 'committed') return;
  }
  throw new JobResumeConflictError(jobId, TRIES);
}

/** The job message, and one per task still pending at the current step, each for its round. */
function messagesAgain(store: JobStore, view: JobView): JobEventInput[] {
  const { job } = view;
  const index = currentStep(view);
  // Tasks still pending when the job stalled: their messages were consumed while it was
  // stalled, so they go out again, each for its own round.
  const pending =
    job.phase !== undefined && job.phaseStep === index
      ? tasksOf(view, index, TaskState.pending)
      : [];
  return [
    {
      type: JobEvent.resumed,
      payload: { jobsTable: store.tableName, jobId: job.jobId, name: job.name },
    },
    ...pending.flatMap((t) => taskMessages(job, store.tableName, index, [t.task], t.round)),
  ];
}

/** A stalled job running again, from where it stalled. */
async function unstall(store: JobStore, view: JobView, now: Date): Promise<'committed' | 'moved'> {
  const { job } = view;
  const at = now.toISOString();
  const index = currentStep(view);
  const failed = tasksOf(view, index, TaskState.failed);
  const checkpoint = store.checkpoint();
  const running = { jobState: JobState.running, reason: undefined };
  const [resumed, ...pending] = messagesAgain(store, view);
  if (job.phase !== undefined && job.phaseStep === index && failed.length > 0) {
    const again = nextRound(job, at);
    for (const task of failed) checkpoint.task(task, again.task);
    checkpoint.job(job, { ...running, ...again.job });
    const names = failed.map((t) => t.task);
    checkpoint.publish(job.version + 1, [
      ...taskMessages(job, store.tableName, index, names, again.round),
      ...pending,
    ]);
    return checkpoint.commit();
  }
  const live = (until: string | undefined) =>
    until !== undefined && Date.parse(until) > now.getTime();
  const record = view.steps.get(index);
  // A step's attempts start again; a parallel step's aggregator runs again.
  // An attempt or aggregation whose invocation still runs stays its own until its lease ends.
  if (record && job.phase === undefined) {
    const { holder, leaseUntil, notBefore: _n, ...kept } = record;
    const held = holder && live(leaseUntil) ? { holder, leaseUntil } : {};
    checkpoint.step({ ...kept, ...held, stepState: 'running', attempts: 0 }, record);
  }
  const claim =
    job.phase === undefined || (job.phase === 'aggregating' && live(job.claimUntil))
      ? {}
      : { phase: 'tasks', ...unclaimed };
  checkpoint.job(job, { ...running, ...claim, updatedAt: at });
  checkpoint.publish(job.version + 1, resumed ? [resumed, ...pending] : pending);
  return checkpoint.commit();
}
