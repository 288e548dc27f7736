import {
  type JobRecord,
  JobState,
  type StepRecord,
  stepKey,
  type TaskRecord,
  TaskState,
} from './records.js';
import type { JobView, RecordChanges, StepWrite } from './store.js';

/**
 * The job's transitions as data: the changes a checkpoint writes, and the records it
 * leaves. Pure, and shared by the runner and `JobClient.resume`, so a transition is
 * written once.
 */

/** Succeeded, failed or stalled: no message moves the job on. */
export function ended(job: JobRecord): boolean {
  return job.jobState !== JobState.pending && job.jobState !== JobState.running;
}

/** The job record as a committed checkpoint left it: changes applied, `undefined` removed. */
export function checkpointed(job: JobRecord, changes: RecordChanges): JobRecord {
  const next: Record<string, unknown> = { ...job, ...changes, version: job.version + 1 };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete next[name];
  return next as unknown as JobRecord;
}

export type StepFields = Pick<StepRecord, 'stepState' | 'attempts'> &
  Partial<
    Pick<
      StepRecord,
      'lastError' | 'result' | 'startedAt' | 'finishedAt' | 'holder' | 'leaseUntil' | 'notBefore'
    >
  >;

/** A step record's checkpoint: what it writes, over which record, and what it leaves once committed. */
export interface StepCheckpoint {
  readonly write: StepWrite;
  readonly previous: StepRecord | undefined;
  readonly committed: StepRecord;
}

/** The step's record with these fields, replacing the one the view holds. */
export function stepCheckpoint(
  view: JobView,
  index: number,
  name: string,
  fields: StepFields,
): StepCheckpoint {
  const previous = view.steps.get(index);
  const write = { jobId: view.job.jobId, stepIndex: index, step: name, ...fields };
  return {
    write,
    previous,
    committed: {
      ...stepKey(view.job.jobId, index),
      ...write,
      version: (previous?.version ?? 0) + 1,
    } as StepRecord,
  };
}

/** The view with the step's record as its checkpoint left it. */
export function withStep(view: JobView, checkpoint: StepCheckpoint): JobView {
  return {
    ...view,
    steps: new Map(view.steps).set(checkpoint.committed.stepIndex, checkpoint.committed),
  };
}

/** The aggregation claim given up: with a decision, a stall or a resume. */
export const unclaimed = { claim: undefined, claimUntil: undefined } as const;

/**
 * A new round of a parallel step: the tasks it runs again start afresh (pending, no
 * attempts, no error, no holder or backoff), and the job goes back to running tasks. What
 * an aggregator's `retry` and a resume of a job stalled with failed tasks both commit.
 */
export function nextRound(
  job: JobRecord,
  at: string,
): {
  readonly round: number;
  readonly task: RecordChanges;
  readonly job: RecordChanges;
} {
  const round = (job.round ?? 1) + 1;
  return {
    round,
    task: {
      taskState: TaskState.pending,
      attempts: 0,
      round,
      lastError: undefined,
      finishedAt: undefined,
      holder: undefined,
      leaseUntil: undefined,
      notBefore: undefined,
    },
    job: { ...unclaimed, phase: 'tasks', round, updatedAt: at },
  };
}

/** The tasks of a step in one state. */
export function tasksOf(view: JobView, stepIndex: number, state?: TaskState): TaskRecord[] {
  return view.tasks.filter(
    (t) => t.stepIndex === stepIndex && (state === undefined || t.taskState === state),
  );
}
