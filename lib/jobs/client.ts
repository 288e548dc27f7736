import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type DynamoDbClientOptions, documentClient } from '../shared/dynamodb-client.js';
import { type ExecutionRecord, executionPartition } from './dispatcher.js';
import { DynamoJobStore } from './dynamodb-store.js';
import { executionStatus, type JobEngines } from './execution-status.js';
import { JobKeys, JobState } from './records.js';
import { resumeJob } from './resume.js';
import { type JobStatus, jobStatus } from './status.js';
import { jobsTableFrom } from './table.js';

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
  readonly engines?: JobEngines;
} & DynamoDbClientOptions;

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
  readonly #store: DynamoJobStore;
  readonly #engines: JobClientOptions['engines'];

  constructor(options: JobClientOptions = {}) {
    this.client = documentClient(options);
    this.#engines = options.engines;
    this.tableName = jobsTableFrom(options.tableName);
    this.#store = new DynamoJobStore({ client: this.client, tableName: this.tableName });
  }

  /**
   * The job's status, or undefined when no job has this id. A Step Functions or durable
   * execution started with `startExecution` under this name, and recorded by the
   * dispatcher in this table, is reported from its engine (`DescribeExecution`,
   * `GetDurableExecution`).
   */
  async status(jobId: string): Promise<JobStatus | undefined> {
    const view = await this.#store.read(jobId);
    if (view) return jobStatus(view);
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': executionPartition(jobId) },
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
   * @throws JobNotFoundError, JobNotResumableError (the job succeeded or failed), JobResumeConflictError
   */
  async resume(jobId: string): Promise<void> {
    await resumeJob(this.#store, jobId, () => new Date());
  }
}
