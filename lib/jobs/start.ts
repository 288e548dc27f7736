import { describeIssues } from '../shared/standard-schema-problems.js';
import { planCreate } from '../transaction/planners.js';
import type { Transaction } from '../transaction/transaction.js';
import type { JobDefinition } from './definition.js';
import { InvalidJobInputError, JobAlreadyStartedError } from './errors.js';
import { JobEvent, planJobEvents } from './messages.js';
import { planOf } from './plan.js';
import { JobKeys, type JobRecord, JobState, jobKey } from './records.js';
import { jobsLayout, jobsTableFrom } from './table.js';

export interface StartJobOptions {
  /**
   * The job's id, unique in the jobs table: derive it from the business key (an order id)
   * so that the same job is never started twice. Letters, digits, ".", "_", "-", ":", "/".
   */
  readonly jobId: string;
  /** The jobs table. @default the `EVENTBOX_JOBS_TABLE` variable, which `JobRunner.grantStart` sets */
  readonly tableName?: string;
}

/** What a start adds to the transaction. */
export interface JobStart {
  readonly jobId: string;
  /** The event that starts the runner, published if, and only if, the transaction commits. */
  readonly eventId: string;
}

/** What a start needs of a job definition: its name and its input schema. */
export type StartableJob<TInput> = Pick<JobDefinition<TInput>, 'name' | 'input' | 'steps'>;

const JOB_ID = /^[A-Za-z0-9._:/-]{1,200}$/;

/**
 * Starts a job inside a transaction (a producer's, or a consumer's `ctx.tx`): the job's
 * record and the event that starts the runner are written with the transaction's other
 * actions, so the job exists if and only if the transaction commits, and its status can
 * be read from that moment. Starting a `jobId` that exists cancels the transaction with a
 * `JobAlreadyStartedError` (nothing is written); a consumer's redelivered event never
 * gets there, since its inbox record makes the redelivery a duplicate.
 *
 * @throws InvalidJobInputError before anything is added, when the input fails the schema.
 * @example
 * const tx = box.transaction();
 * tx.update(orderKey, { status: 'paid' }, { expectedVersion: 3 });
 * await startJob(tx, fulfilOrder, { orderId: '42' }, { jobId: 'fulfil-42' });
 * await tx.commit();
 */
export async function startJob<TInput>(
  tx: Transaction,
  job: StartableJob<TInput>,
  input: NoInfer<TInput>,
  options: StartJobOptions,
): Promise<JobStart> {
  const record = await newJobRecord(job, input, options.jobId);
  const tableName = jobsTableFrom(options.tableName);
  const layout = jobsLayout(tableName);
  const now = new Date(record.createdAt);
  tx.addAction(
    planCreate(
      layout,
      'startJob',
      { ...record, _eventbox: JobKeys.marker },
      {},
      (failure, failures, cause) =>
        new JobAlreadyStartedError(options.jobId, failure.action, failures, cause),
    ),
  );
  const [started] = planJobEvents(
    layout,
    1,
    [
      {
        type: JobEvent.started,
        payload: { jobId: options.jobId, name: job.name, jobsTable: tableName },
      },
    ],
    { now },
  );
  if (!started) throw new Error('no start event planned');
  tx.addAction(started);
  return { jobId: options.jobId, eventId: started.envelope.id };
}

/**
 * The record of a job about to start, pending at its first step, once its id and input
 * pass: what `startJob` writes, and what a `JobStore` in a test starts from.
 * @throws InvalidJobInputError when the id or the input fails.
 */
export async function newJobRecord<TInput>(
  job: StartableJob<TInput>,
  input: NoInfer<TInput>,
  jobId: string,
  now: Date = new Date(),
): Promise<JobRecord> {
  if (!JOB_ID.test(jobId)) {
    throw new InvalidJobInputError(job.name, [
      `jobId: must be 1 to 200 letters, digits, ".", "_", "-", ":" or "/"; got "${jobId}"`,
    ]);
  }
  const result = await job.input['~standard'].validate(input);
  if (result.issues) throw new InvalidJobInputError(job.name, describeIssues(result.issues));
  const at = now.toISOString();
  return {
    ...jobKey(jobId),
    jobId,
    name: job.name,
    input: JSON.stringify(result.value ?? null),
    jobState: JobState.pending,
    jobCreatedAt: `${at}#${jobId}`,
    plan: planOf(job),
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
}
