import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Outcome } from '../delivery/outcome.js';
import type { Item, Key } from '../transaction/actions.js';
import { TransactionConflictError } from '../transaction/errors.js';
import type { Transaction } from '../transaction/transaction.js';
import { type Delivery, secondsUntil } from './attempts.js';
import type { JobDefinition, StepContext } from './definition.js';
import { JobRunnerMetrics } from './environment.js';
import { JobEvent, type JobEventInput } from './messages.js';
import { errorText, type JobRecord, JobState } from './records.js';
import type { JobCheckpoint, JobStore, JobView } from './store.js';
import { type StepCheckpoint, unclaimed } from './transitions.js';

// biome-ignore lint/suspicious/noExplicitAny: definitions of any input and results
export type AnyJob = JobDefinition<any, any>;

/** What every delivery a runner handles shares: its store, clock, logger and metrics. */
export interface RunnerParts {
  readonly store: JobStore;
  readonly clock: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** One delivery of a job message, as it moves the job on: the state passed to each part. */
export interface Run extends RunnerParts {
  readonly delivery: Delivery;
}

/** A run of a job whose definition this runner has. */
export interface DefinedRun extends Run {
  readonly definition: AnyJob;
}

/** Continue with this (newer) view of the job, or stop with this outcome. */
export type Next = { readonly view: JobView } | { readonly outcome: Outcome };

export function handled(run: Run): Next {
  return { outcome: handledOutcome(run) };
}

export function handledOutcome(run: Pick<Run, 'delivery'>): Outcome {
  return { status: 'handled', event: run.delivery.event, staleSkipped: 0, published: [] };
}

export function iso(run: RunnerParts, at: number = run.clock()): string {
  return new Date(at).toISOString();
}

export function count(run: RunnerParts, metric: string): void {
  run.metrics.addMetric(metric, MetricUnit.Count, 1);
}

/**
 * Fills the checkpoint; why it cannot take the writes (an item or the transaction over
 * DynamoDB's limits), or undefined when it took all.
 */
export function fill(add: () => void): string | undefined {
  try {
    add();
    return undefined;
  } catch (error) {
    return errorText(error);
  }
}

/** The job as it is now, after a checkpoint found it moved. */
export async function reload(run: Run, view: JobView): Promise<Next> {
  const latest = await run.store.read(view.job.jobId);
  return latest
    ? { view: latest }
    : { outcome: { status: 'dead-letter', reason: `job ${view.job.jobId} disappeared` } };
}

/**
 * This delivery waits (an attempt is held, or a backoff runs) and comes back at `until`,
 * uncounted, and in its own metric: a copy waiting is no step or task failing.
 */
export function wait(run: Run, view: JobView, reason: string, until: number): Next {
  return {
    outcome: {
      status: 'retry',
      kind: 'waiting',
      event: run.delivery.event,
      reason: `${reason} (job ${view.job.jobId})`,
      delaySeconds: secondsUntil(until, run.clock()),
    },
  };
}

/** The notice of a job's end or stall, for other services: published with the checkpoint. */
export function notice(job: JobRecord, tableName: string, type: string, reason?: string) {
  return [
    {
      type,
      payload: {
        jobId: job.jobId,
        name: job.name,
        jobsTable: tableName,
        ...(reason === undefined ? {} : { reason }),
      },
    },
  ] satisfies JobEventInput[];
}

/** One message per task of a round: each runs in its own invocation. */
export function taskMessages(
  job: JobRecord,
  tableName: string,
  stepIndex: number,
  tasks: readonly string[],
  round: number,
): JobEventInput[] {
  return tasks.map((task) => ({
    type: JobEvent.task,
    payload: { jobId: job.jobId, name: job.name, jobsTable: tableName, stepIndex, task, round },
  }));
}

/** Ends the job where it is, with the reason; an operator resumes it. */
export async function stall(
  run: Run,
  view: JobView,
  reason: string,
  step?: StepCheckpoint,
): Promise<Next> {
  const { job } = view;
  const checkpoint = run.store.checkpoint();
  // An aggregation this delivery holds ends with the stall; another's stays its own.
  const own = job.claim === run.delivery.holder ? unclaimed : {};
  checkpoint.job(job, { jobState: JobState.stalled, reason, updatedAt: iso(run), ...own });
  if (step) checkpoint.step(step.write, step.previous);
  checkpoint.publish(job.version + 1, notice(job, run.store.tableName, JobEvent.stalled, reason));
  if ((await checkpoint.commit()) === 'moved') return reload(run, view);
  count(run, JobRunnerMetrics.stalledJobs);
  run.logger.error('job stalled', { jobId: job.jobId, name: job.name, reason });
  return handled(run);
}

/** Every step succeeded: the job ends, with its notice. */
export async function finish(run: Run, view: JobView): Promise<Next> {
  const { job } = view;
  const now = iso(run);
  const checkpoint = run.store.checkpoint();
  checkpoint.job(job, { jobState: JobState.succeeded, finishedAt: now, updatedAt: now });
  checkpoint.publish(job.version + 1, notice(job, run.store.tableName, JobEvent.succeeded));
  if ((await checkpoint.commit()) === 'moved') return reload(run, view);
  count(run, JobRunnerMetrics.jobsSucceeded);
  run.logger.info('job succeeded', { jobId: job.jobId, name: job.name });
  return handled(run);
}

/** A step's (or task's) context: its transaction, idempotency key and reads. */
export function stepContext(
  run: Run,
  tx: Transaction,
  job: JobRecord,
  step: string,
  attempt: number,
  task?: string,
): StepContext {
  const { store } = run;
  return {
    tx,
    jobId: job.jobId,
    step,
    ...(task === undefined ? {} : { task }),
    idempotencyKey: [job.jobId, step, ...(task === undefined ? [] : [task])].join(':'),
    attempt,
    logger: run.logger,
    async get<TItem extends Item = Item>(key: Key, options: { readonly tableName?: string } = {}) {
      return (await store.get(options.tableName, key)) as TItem | undefined;
    },
  };
}

/**
 * Commits the checkpoint of an attempt's work. Contention with another writer of an item
 * the work writes is no failure of the work: the attempt is given back (`giveBack` fills
 * the checkpoint that does) and the error thrown, so the message comes back. Any other
 * error (its own condition, throttling, access denied) is the attempt failing: returned.
 */
export async function commitAttempt(
  run: Run,
  checkpoint: JobCheckpoint,
  giveBack: (release: JobCheckpoint) => void,
): Promise<'committed' | 'moved' | { readonly failed: unknown }> {
  try {
    return await checkpoint.commit();
  } catch (error) {
    if (!(error instanceof TransactionConflictError)) return { failed: error };
    const release = run.store.checkpoint();
    giveBack(release);
    await release.commit();
    throw error;
  }
}
