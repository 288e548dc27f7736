import { randomUUID } from 'node:crypto';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { OutboxItem } from '../envelope/outbox-item.js';
import { type DynamoDbClientOptions, documentClient } from '../shared/dynamodb-client.js';
import { Limits } from '../shared/limits.js';
import { Transaction } from '../transaction/transaction.js';
import type { ExecutionRecord } from './dispatcher.js';
import { JobNotFoundError, JobNotResumableError } from './errors.js';
import { JobEvent, planJobEvents } from './messages.js';
import { JobKeys, JobState, TaskState } from './records.js';
import { currentStep, JobStore, type JobView } from './store.js';
import { jobsLayout, jobsTableFrom } from './table.js';

/** A task of a parallel step, as status reports it. */
export interface TaskStatus {
  readonly name: string;
  readonly state: 'pending' | 'succeeded' | 'failed';
  readonly attempts: number;
  readonly round: number;
  readonly lastError?: string;
  /** An attempt is running: its invocation holds it until then (then it counts as died). */
  readonly heldUntil?: string;
  /** After a failure, the next attempt waits until then. */
  readonly retryAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly result?: unknown;
}

/** A step, as status reports it. */
export interface StepStatus {
  readonly name: string;
  readonly kind: 'step' | 'parallel';
  readonly state: 'pending' | 'running' | 'succeeded' | 'stalled' | 'failed';
  readonly attempts: number;
  readonly lastError?: string;
  /** An attempt is running: its invocation holds it until then (then it counts as died). */
  readonly heldUntil?: string;
  /** After a failure, the next attempt waits until then. */
  readonly retryAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly result?: unknown;
  readonly tasks?: readonly TaskStatus[];
}

/** A Step Functions or durable execution a job id names, as its engine reports it. */
export interface ExecutionStatus {
  readonly engine: 'step-functions' | 'durable-function';
  readonly target: string;
  /** Absent when the engine returned none and lists none under the name. */
  readonly executionArn?: string;
  /**
   * The engine's own status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or STOPPED;
   * STARTED when the dispatcher started it but the engine cannot find it by name yet.
   */
  readonly status: string;
}

/** A job's status: readable from the moment the transaction that started it committed. */
export interface JobStatus {
  readonly jobId: string;
  readonly name: string;
  readonly state: JobState;
  /** The step the job is at (none once it succeeded). */
  readonly currentStep?: { readonly index: number; readonly name: string };
  /** Why it stalled or failed. */
  readonly reason?: string;
  readonly input: unknown;
  readonly steps: readonly StepStatus[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  /** For a Step Functions or durable execution started with `startExecution`: its engine's report. */
  readonly execution?: ExecutionStatus;
}

/** One job of a listing. */
export interface JobSummary {
  readonly jobId: string;
  readonly name: string;
  readonly state: JobState;
  readonly createdAt: string;
}

export interface ListJobsOptions {
  /** Only jobs in this state. @default every state */
  readonly state?: JobState;
  /** Only jobs of this name. */
  readonly name?: string;
  /** Only jobs created at or after this time. */
  readonly since?: Date;
  /** At most this many, 1 to 1000. @default 100 */
  readonly limit?: number;
}

export type JobClientOptions = {
  /** The jobs table. @default the `EVENTBOX_JOBS_TABLE` variable */
  readonly tableName?: string;
  /** Clients status reads executions with. @default clients from the environment */
  readonly engines?: { readonly stepFunctions?: SFNClient; readonly lambda?: LambdaClient };
} & DynamoDbClientOptions;

function parsed(json: string | undefined): unknown {
  return json === undefined ? undefined : (JSON.parse(json) as unknown);
}

/** An attempt's lease and backoff, as status reports them. */
function inFlight(
  record: { holder?: string; leaseUntil?: string; notBefore?: string } | undefined,
) {
  return {
    ...(record?.holder && record.leaseUntil ? { heldUntil: record.leaseUntil } : {}),
    ...(record?.notBefore ? { retryAt: record.notBefore } : {}),
  };
}

/** Builds the status from one read of the job's partition. */
export function jobStatus(view: JobView): JobStatus {
  const { job } = view;
  const current = currentStep(view);
  const steps = (job.plan ?? []).map((planned, index): StepStatus => {
    const record = view.steps.get(index);
    const state: StepStatus['state'] =
      record?.stepState === 'succeeded'
        ? 'succeeded'
        : index === current && job.jobState === JobState.stalled
          ? 'stalled'
          : index === current && job.jobState === JobState.failed
            ? 'failed'
            : record
              ? 'running'
              : 'pending';
    const own = view.tasks.filter((t) => t.stepIndex === index);
    return {
      name: planned.name,
      kind: planned.kind,
      state,
      attempts: record?.attempts ?? 0,
      ...(record?.lastError ? { lastError: record.lastError } : {}),
      ...inFlight(record),
      ...(record?.startedAt ? { startedAt: record.startedAt } : {}),
      ...(record?.finishedAt ? { finishedAt: record.finishedAt } : {}),
      ...(record?.result === undefined ? {} : { result: parsed(record.result) }),
      ...(planned.kind === 'parallel'
        ? {
            tasks: (planned.tasks ?? []).map((name): TaskStatus => {
              const task = own.find((t) => t.task === name);
              return {
                name,
                state: task?.taskState ?? 'pending',
                attempts: task?.attempts ?? 0,
                round: task?.round ?? 0,
                ...(task?.lastError ? { lastError: task.lastError } : {}),
                ...inFlight(task),
                ...(task?.startedAt ? { startedAt: task.startedAt } : {}),
                ...(task?.finishedAt ? { finishedAt: task.finishedAt } : {}),
                ...(task?.result === undefined ? {} : { result: parsed(task.result) }),
              };
            }),
          }
        : {}),
    };
  });
  const at = job.plan?.[current];
  return {
    jobId: job.jobId,
    name: job.name,
    state: job.jobState,
    ...(at && job.jobState !== JobState.succeeded
      ? { currentStep: { index: current, name: at.name } }
      : {}),
    ...(job.reason ? { reason: job.reason } : {}),
    input: parsed(job.input),
    steps,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
  };
}

const ENGINE_STATES: Record<string, JobState> = {
  STARTED: JobState.running,
  RUNNING: JobState.running,
  PENDING_REDRIVE: JobState.stalled,
  SUCCEEDED: JobState.succeeded,
};

interface EngineReport {
  readonly status: string;
  readonly executionArn?: string;
  readonly startedAt?: Date;
  readonly stoppedAt?: Date;
}

async function stepFunctionsReport(
  record: ExecutionRecord,
  client: SFNClient | undefined,
): Promise<EngineReport> {
  const { SFNClient, DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
  const executionArn =
    record.executionArn ??
    `${record.target.replace(':stateMachine:', ':execution:')}:${record.name}`;
  const described = await (client ?? new SFNClient({})).send(
    new DescribeExecutionCommand({ executionArn }),
  );
  return {
    status: described.status ?? 'UNKNOWN',
    executionArn,
    ...(described.startDate ? { startedAt: described.startDate } : {}),
    ...(described.stopDate ? { stoppedAt: described.stopDate } : {}),
  };
}

/** By the ARN the invoke returned, else by the execution's name. */
async function durableReport(
  record: ExecutionRecord,
  client: LambdaClient | undefined,
): Promise<EngineReport> {
  const { LambdaClient, GetDurableExecutionCommand, ListDurableExecutionsByFunctionCommand } =
    await import('@aws-sdk/client-lambda');
  const lambda = client ?? new LambdaClient({});
  let executionArn = record.executionArn;
  if (!executionArn) {
    const listed = await lambda.send(
      new ListDurableExecutionsByFunctionCommand({
        FunctionName: record.target,
        DurableExecutionName: record.name,
      }),
    );
    executionArn = listed.DurableExecutions?.find(
      (e) => e.DurableExecutionName === record.name,
    )?.DurableExecutionArn;
    if (!executionArn) return { status: 'STARTED' };
  }
  const got = await lambda.send(
    new GetDurableExecutionCommand({ DurableExecutionArn: executionArn }),
  );
  return {
    status: got.Status ?? 'UNKNOWN',
    executionArn,
    ...(got.StartTimestamp ? { startedAt: got.StartTimestamp } : {}),
    ...(got.EndTimestamp ? { stoppedAt: got.EndTimestamp } : {}),
  };
}

/** An execution the dispatcher started, as its engine reports it now. */
async function executionStatus(
  record: ExecutionRecord,
  engines: JobClientOptions['engines'] = {},
): Promise<JobStatus> {
  const { status, executionArn, startedAt, stoppedAt } =
    record.engine === 'step-functions'
      ? await stepFunctionsReport(record, engines.stepFunctions)
      : await durableReport(record, engines.lambda);
  return {
    jobId: record.name,
    name: record.target.split(':').pop() ?? record.target,
    state: ENGINE_STATES[status] ?? JobState.failed,
    input: undefined,
    steps: [],
    createdAt: (startedAt ?? new Date(record.startedAt)).toISOString(),
    updatedAt: (stoppedAt ?? startedAt ?? new Date(record.startedAt)).toISOString(),
    ...(stoppedAt ? { finishedAt: stoppedAt.toISOString() } : {}),
    execution: {
      engine: record.engine,
      target: record.target,
      ...(executionArn ? { executionArn } : {}),
      status,
    },
  };
}

/**
 * Reads jobs' status, lists them and resumes stalled ones: what `npx eventbox jobs` uses,
 * and what an application can show its users.
 *
 * @example
 * const jobs = new JobClient({ tableName: 'jobs' });
 * const status = await jobs.status('fulfil-42'); // state, current step, tasks with attempts and errors
 * for (const job of await jobs.list({ state: 'stalled' })) await jobs.resume(job.jobId);
 */
export class JobClient {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly #store: JobStore;
  readonly #engines: JobClientOptions['engines'];

  constructor(options: JobClientOptions = {}) {
    this.client = documentClient(options);
    this.#engines = options.engines;
    this.tableName = jobsTableFrom(options.tableName);
    this.#store = new JobStore(this.client, jobsLayout(this.tableName));
  }

  /**
   * The job's status, or undefined when no job has this id. A Step Functions or durable
   * execution started with `startExecution` under this name, and recorded by the
   * dispatcher in this table, is reported from its engine (`DescribeExecution`,
   * `GetDurableExecution`).
   */
  async status(jobId: string): Promise<JobStatus | undefined> {
    const view = await this.#store.all(jobId);
    if (view) return jobStatus(view);
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `EXECUTION#${jobId}` },
        ConsistentRead: true,
      }),
    );
    const [record] = Items as unknown as ExecutionRecord[];
    return record ? executionStatus(record, this.#engines) : undefined;
  }

  /** Jobs by state (through the `byState` index, no scan), newest first. */
  async list(options: ListJobsOptions = {}): Promise<JobSummary[]> {
    const limit = options.limit ?? 100;
    const states = options.state ? [options.state] : Object.values(JobState);
    const found: JobSummary[] = [];
    for (const state of states) {
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: JobKeys.byStateIndex,
            KeyConditionExpression: options.since
              ? '#state = :state AND #created >= :since'
              : '#state = :state',
            ...(options.name ? { FilterExpression: '#name = :name' } : {}),
            ExpressionAttributeNames: {
              '#state': JobKeys.stateAttribute,
              ...(options.since ? { '#created': JobKeys.createdAttribute } : {}),
              ...(options.name ? { '#name': 'name' } : {}),
            },
            ExpressionAttributeValues: {
              ':state': state,
              ...(options.since ? { ':since': options.since.toISOString() } : {}),
              ...(options.name ? { ':name': options.name } : {}),
            },
            ScanIndexForward: false,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          found.push({
            jobId: String(item.jobId ?? String(item.pk).slice(JobKeys.partitionPrefix.length)),
            name: String(item.name),
            state,
            createdAt: String(item[JobKeys.createdAttribute]).split('#')[0] ?? '',
          });
        }
        start = found.length < limit ? page.LastEvaluatedKey : undefined;
      } while (start);
    }
    return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }

  /**
   * Resumes a job: re-runs only what is not done; finished steps and tasks never run again.
   * - Stalled: at a step, its attempts start again; at a parallel step, the failed tasks run
   *   again alone (or, when none failed, the aggregator runs again).
   * - Pending or running (its message is gone: deleted, dead-lettered, expired): its
   *   messages go out again, a job message and one per pending task, attempts untouched.
   *   A copy of a message still in flight is harmless: an attempt runs in one invocation at
   *   a time and every checkpoint is guarded.
   * @throws JobNotFoundError, JobNotResumableError (the job succeeded or failed)
   */
  async resume(jobId: string): Promise<void> {
    const view = await this.#store.all(jobId);
    if (!view) throw new JobNotFoundError(jobId);
    const { job } = view;
    if (job.jobState === JobState.succeeded || job.jobState === JobState.failed)
      throw new JobNotResumableError(jobId, job.jobState);
    const now = new Date();
    const at = now.toISOString();
    const layout = this.#store.layout;
    const tx = new Transaction({
      client: this.client,
      layout,
      outbox: {
        layout,
        ttlSeconds: OutboxItem.defaultTtlSeconds,
        ttlAttribute: OutboxItem.defaultTtlAttribute,
      },
      source: JobEvent.source,
      maxEventBytes: Limits.maxEventBytes,
      now: () => now,
    });
    const base = { jobsTable: this.tableName, jobId, name: job.name };
    const index = currentStep(view);
    const failed = view.tasks.filter(
      (t) => t.stepIndex === index && t.taskState === TaskState.failed,
    );
    // Tasks still pending when the job stalled: their messages were consumed while it was
    // stalled, so they go out again, each for its own round.
    const pending =
      job.phase !== undefined && job.phaseStep === index
        ? view.tasks.filter((t) => t.stepIndex === index && t.taskState === TaskState.pending)
        : [];
    const pendingEvents = pending.map((t) => ({
      type: JobEvent.task,
      payload: { ...base, stepIndex: index, task: t.task, round: t.round },
    }));
    let events: Array<{ type: string; payload: typeof base & Record<string, unknown> }>;
    if (job.jobState !== JobState.stalled) {
      // Nothing of the job changes: a checkpoint or decision in flight still commits.
      const resent = planJobEvents(
        layout,
        1,
        [{ type: JobEvent.resumed, payload: base }, ...pendingEvents],
        { now, aggregate: { type: 'JobResume', id: `${jobId}/${randomUUID()}` } },
      );
      for (const planned of resent) tx.addAction(planned, planned.envelope);
      await tx.commit();
      return;
    }
    const live = (until: string | undefined) =>
      until !== undefined && Date.parse(until) > now.getTime();
    if (job.phase !== undefined && job.phaseStep === index && failed.length > 0) {
      const round = (job.round ?? 1) + 1;
      for (const task of failed) {
        tx.addAction(
          this.#store.planTask(task, {
            taskState: TaskState.pending,
            attempts: 0,
            round,
            lastError: undefined,
            finishedAt: undefined,
          }),
        );
      }
      tx.addAction(
        this.#store.planJob(job, {
          jobState: JobState.running,
          reason: undefined,
          phase: 'tasks',
          claim: undefined,
          claimUntil: undefined,
          round,
          updatedAt: at,
        }),
      );
      events = [
        ...failed.map((t) => ({
          type: JobEvent.task,
          payload: { ...base, stepIndex: index, task: t.task, round },
        })),
        ...pendingEvents,
      ];
    } else {
      const record = view.steps.get(index);
      // A step's attempts start again; a parallel step's aggregator runs again.
      // An attempt or aggregation whose invocation still runs stays its own until its lease ends.
      if (record && job.phase === undefined) {
        const { holder, leaseUntil, notBefore: _n, ...kept } = record;
        const held = holder && live(leaseUntil) ? { holder, leaseUntil } : {};
        tx.addAction(
          this.#store.planStep({ ...kept, ...held, stepState: 'running', attempts: 0 }, record),
        );
      }
      const unclaimed =
        job.phase === undefined || (job.phase === 'aggregating' && live(job.claimUntil))
          ? {}
          : { phase: 'tasks', claim: undefined, claimUntil: undefined };
      tx.addAction(
        this.#store.planJob(job, {
          jobState: JobState.running,
          reason: undefined,
          ...unclaimed,
          updatedAt: at,
        }),
      );
      events = [{ type: JobEvent.resumed, payload: base }, ...pendingEvents];
    }
    for (const planned of planJobEvents(layout, job.version + 1, events, { now }))
      tx.addAction(planned, planned.envelope);
    await tx.commit();
  }
}
