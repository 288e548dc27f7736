import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '../shared/condition-failure.js';
import type { TableLayout } from '../transaction/actions.js';
import { ExpressionAttributes } from '../transaction/expressions.js';
import {
  type PlannedAction,
  planCheck,
  planPut,
  planUpdate,
  type UpdateChange,
} from '../transaction/planners.js';
import {
  JobKeys,
  type JobRecord,
  jobKey,
  type StepRecord,
  stepKey,
  type TaskRecord,
  taskKey,
  taskPrefix,
} from './records.js';

/** A job as one query of its partition reads it. */
/** The kind of a job record's write in a transaction, as its failures report it. */
export const jobActionKind = 'job';

export interface JobView {
  readonly job: JobRecord;
  /** Step records by step index: the steps that have started. */
  readonly steps: ReadonlyMap<number, StepRecord>;
  readonly tasks: readonly TaskRecord[];
}

/**
 * Reads and plans writes of job and task records. Every write is guarded by the record's
 * `version`, so two deliveries of one message cannot both move a job on.
 */
export class JobStore {
  readonly client: DynamoDBDocumentClient;
  readonly layout: TableLayout;

  constructor(client: DynamoDBDocumentClient, layout: TableLayout) {
    this.client = client;
    this.layout = layout;
  }

  /** A consistent read of a job record. */
  async job(jobId: string): Promise<JobRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.layout.tableName,
        Key: jobKey(jobId),
        ConsistentRead: true,
      }),
    );
    return Item as JobRecord | undefined;
  }

  /** A consistent read of a task record. */
  async task(jobId: string, stepIndex: number, task: string): Promise<TaskRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.layout.tableName,
        Key: taskKey(jobId, stepIndex, task),
        ConsistentRead: true,
      }),
    );
    return Item as TaskRecord | undefined;
  }

  /** Every task record of one step of a job (a consistent query of the job's partition). */
  async tasks(jobId: string, stepIndex: number): Promise<TaskRecord[]> {
    return (await this.#query(jobId, taskPrefix(stepIndex))) as unknown as TaskRecord[];
  }

  /** The job record, its step records and its task records: the whole job, in one query. */
  async all(jobId: string): Promise<JobView | undefined> {
    const items = await this.#query(jobId);
    const job = items.find((i) => i.sk === JobKeys.jobSortKey) as JobRecord | undefined;
    if (!job) return undefined;
    const of = (prefix: string) => items.filter((i) => String(i.sk).startsWith(prefix));
    return {
      job,
      steps: new Map(
        (of(JobKeys.stepPrefix) as unknown as StepRecord[]).map((s) => [s.stepIndex, s]),
      ),
      tasks: of(JobKeys.taskPrefix) as unknown as TaskRecord[],
    };
  }

  async #query(jobId: string, sortKeyPrefix?: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.layout.tableName,
          KeyConditionExpression: sortKeyPrefix
            ? '#pk = :pk AND begins_with(#sk, :prefix)'
            : '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'pk', ...(sortKeyPrefix ? { '#sk': 'sk' } : {}) },
          ExpressionAttributeValues: {
            ':pk': jobKey(jobId).pk,
            ...(sortKeyPrefix ? { ':prefix': sortKeyPrefix } : {}),
          },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** A checkpoint of the job record: these changes, if it is still at `version`. */
  planJob(
    job: Pick<JobRecord, 'jobId' | 'version'>,
    changes: Readonly<Record<string, UpdateChange>>,
  ): PlannedAction {
    const planned = planUpdate(this.layout, jobKey(job.jobId), changes, {
      expectedVersion: job.version,
    });
    return { ...planned, summary: { ...planned.summary, kind: jobActionKind } };
  }

  /** A check, in a step's transaction, that the job still runs: a stalled job runs no more. */
  planRunning(job: Pick<JobRecord, 'jobId'>): PlannedAction {
    const planned = planCheck(this.layout, jobKey(job.jobId), {
      attr: 'jobState',
      eq: 'running',
    });
    return { ...planned, summary: { ...planned.summary, kind: jobActionKind } };
  }

  /**
   * A step's record as it is to be, if the stored one is still at `previous`'s version
   * (or absent, without one): the whole checkpoint of a sequential step.
   */
  planStep(
    record: Omit<StepRecord, 'version' | 'pk' | 'sk'>,
    previous: StepRecord | undefined,
  ): PlannedAction {
    // A record read back carries its keys and version: the put sets those itself.
    const {
      version: _version,
      pk: _pk,
      sk: _sk,
      ...fields
    } = record as Partial<StepRecord> & typeof record;
    const item = {
      ...stepKey(record.jobId, record.stepIndex),
      ...fields,
      _eventbox: JobKeys.stepMarker,
    };
    const planned = planPut(this.layout, item, { expectedVersion: previous?.version ?? 0 });
    return { ...planned, summary: { ...planned.summary, kind: jobActionKind } };
  }

  /** A checkpoint of a task record, if it is still at `version`. */
  planTask(
    task: Pick<TaskRecord, 'jobId' | 'stepIndex' | 'task' | 'version'>,
    changes: Readonly<Record<string, UpdateChange>>,
  ): PlannedAction {
    const planned = planUpdate(
      this.layout,
      taskKey(task.jobId, task.stepIndex, task.task),
      changes,
      {
        expectedVersion: task.version,
      },
    );
    return { ...planned, summary: { ...planned.summary, kind: jobActionKind } };
  }

  /**
   * Claims the aggregation of the job's current parallel step for `claimant` until
   * `until`: the one conditional write that lets one invocation at a time run the
   * aggregator. A claim whose holder's lease ran out (it timed out or died) is taken over.
   * @returns the record as the claim left it: claimed when its `claim` is `claimant`;
   * another's claim, another phase, or undefined (the job is gone) otherwise.
   */
  async claimAggregation(
    job: JobRecord,
    claimant: string,
    times: { readonly now: string; readonly until: string },
  ): Promise<JobRecord | undefined> {
    const n = new ExpressionAttributes();
    const set = [
      `${n.name('phase')} = ${n.value('aggregating')}`,
      `${n.name('claim')} = ${n.value(claimant)}`,
      `${n.name('claimUntil')} = ${n.value(times.until)}`,
      `${n.name('updatedAt')} = ${n.value(times.now)}`,
      `${n.name('version')} = ${n.value(job.version + 1)}`,
    ];
    const unheld = `(${n.name('phase')} = ${n.value('tasks')} OR (${n.name('phase')} = ${n.value('aggregating')} AND (attribute_not_exists(${n.name('claimUntil')}) OR ${n.name('claimUntil')} <= ${n.value(times.now)})))`;
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.layout.tableName,
          Key: jobKey(job.jobId),
          UpdateExpression: `SET ${set.join(', ')}`,
          ConditionExpression: `${n.name('version')} = ${n.value(job.version)} AND ${unheld}`,
          ...n.toParams(),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as JobRecord;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Read back: a response lost after the write applied, resent by the SDK, fails its
      // own condition, and the record then shows the claim as this claimant's.
      return this.job(job.jobId);
    }
  }
}

/** The first step that has not succeeded: where the job is. */
export function currentStep(view: Pick<JobView, 'steps'>): number {
  let index = 0;
  while (view.steps.get(index)?.stepState === 'succeeded') index++;
  return index;
}
