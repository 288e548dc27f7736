import type { Item, Key } from '../transaction/actions.js';
import type { UpdateChange } from '../transaction/planners.js';
import type { Transaction } from '../transaction/transaction.js';
import type { JobEventInput } from './messages.js';
import type { JobRecord, StepRecord, TaskRecord } from './records.js';

/** A job as one read of its partition finds it. */
export interface JobView {
  readonly job: JobRecord;
  /** Step records by step index: the steps that have started. */
  readonly steps: ReadonlyMap<number, StepRecord>;
  readonly tasks: readonly TaskRecord[];
}

/** Changes of a record's fields: a value sets it, `undefined` removes it. */
export type RecordChanges = Readonly<Record<string, UpdateChange>>;

/** A step record as a checkpoint writes it: its fields, without keys or version. */
export type StepWrite = Omit<StepRecord, 'version' | 'pk' | 'sk'>;

/**
 * One checkpoint: changes of job, step and task records, each guarded by the version it
 * was read at, the job events they publish, and the step's own writes (`tx`), committed
 * all or nothing. Each method throws, adding nothing, when the write would break one of
 * DynamoDB's limits (an item or the transaction too large).
 */
export interface JobCheckpoint {
  /** The unit of work a step's or task's writes join: its `ctx.tx`. */
  readonly tx: Transaction;
  /** The job record's changes, if it is still at `job.version`. */
  job(job: Pick<JobRecord, 'jobId' | 'version'>, changes: RecordChanges): void;
  /** That the job still runs: a stalled job runs no more. */
  running(job: Pick<JobRecord, 'jobId'>): void;
  /** A step's record as it is to be, if the stored one is still at `previous`'s version. */
  step(record: StepWrite, previous: StepRecord | undefined): void;
  /** A task record's changes, if it is still at `task.version`. */
  task(
    task: Pick<TaskRecord, 'jobId' | 'stepIndex' | 'task' | 'version'>,
    changes: RecordChanges,
  ): void;
  /** A new task record, pending, at version 1. */
  createTask(task: Pick<TaskRecord, 'jobId' | 'stepIndex' | 'task'>): void;
  /** Job events, published with the checkpoint: all of one commit that gives the job `version`. */
  publish(version: number, events: readonly JobEventInput[]): void;
  /**
   * `moved` when a job, step or task record it guards was changed by someone else first
   * (nothing was written); any other refusal is thrown.
   */
  commit(): Promise<'committed' | 'moved'>;
}

/**
 * Where job, step and task records live, and how the runner and `JobClient` change them:
 * DynamoDB in production (`DynamoJobStore`), memory in unit tests (`MemoryJobStore` of
 * `eventbox/testing`). Every change is a guarded checkpoint, so two deliveries of one
 * message cannot both move a job on.
 */
export interface JobStore {
  /** The jobs table the records are in: what a job message names. */
  readonly tableName: string;
  /** The whole job, read consistently; undefined when it does not exist. */
  read(jobId: string): Promise<JobView | undefined>;
  /** A new checkpoint, to fill and commit. */
  checkpoint(): JobCheckpoint;
  /**
   * Claims the aggregation of the job's current parallel step for `claimant` until
   * `times.until`: one invocation at a time runs the aggregator. A claim whose lease ran
   * out is taken over.
   * @returns the record as the claim left it: claimed when its `claim` is `claimant`;
   * another's claim, another phase, or undefined (the job is gone) otherwise.
   */
  claimAggregation(
    job: JobRecord,
    claimant: string,
    times: { readonly now: string; readonly until: string },
  ): Promise<JobRecord | undefined>;
  /**
   * Publishes the events on their own (no record changes), as `aggregate`'s, once however
   * often it is asked: a second call for the same aggregate publishes nothing and succeeds.
   */
  publishOnce(
    events: readonly JobEventInput[],
    aggregate: { readonly type: string; readonly id: string },
  ): Promise<void>;
  /** A consistent read of one item a step reads (`ctx.get`). */
  get(tableName: string | undefined, key: Key): Promise<Item | undefined>;
}

/** The kind of a job record's write in a transaction, as its failures report it. */
export const jobActionKind = 'job';

/** The first step that has not succeeded: where the job is. */
export function currentStep(view: Pick<JobView, 'steps'>): number {
  let index = 0;
  while (view.steps.get(index)?.stepState === 'succeeded') index++;
  return index;
}
