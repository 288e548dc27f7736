import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { OutboxItem } from '../envelope/outbox-item.js';
import { isConditionFailure } from '../shared/condition-failure.js';
import { Limits } from '../shared/limits.js';
import type { Item, Key, TableLayout } from '../transaction/actions.js';
import { TransactionCanceledError } from '../transaction/errors.js';
import { ExpressionAttributes } from '../transaction/expressions.js';
import { Transaction, type TransactionSettings } from '../transaction/transaction.js';
import { CheckpointPlans, newTask } from './checkpoint-plans.js';
import { type JobEventInput, planJobEvents } from './messages.js';
import { JobKeys, type JobRecord, jobKey, type StepRecord, type TaskRecord } from './records.js';
import {
  type JobCheckpoint,
  type JobStore,
  type JobView,
  jobActionKind,
  type RecordChanges,
  type StepWrite,
} from './store.js';
import { jobsLayout } from './table.js';

export interface DynamoJobStoreOptions {
  readonly client: DynamoDBDocumentClient;
  /** The jobs table. */
  readonly tableName: string;
  /** The table a step's `ctx.tx` and `ctx.get` use unless an action names another. @default tableName */
  readonly stepTableName?: string;
  /** `source` of the events steps publish through `ctx.tx`. @default 'jobs' */
  readonly source?: string;
  /** The time, in ms since the epoch. @default Date.now */
  readonly clock?: () => number;
}

/**
 * The job store on a DynamoDB table: one partition per job (see `records.ts`), every
 * checkpoint one `TransactWriteItems` with the step's own writes.
 */
export class DynamoJobStore implements JobStore {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly layout: TableLayout;
  readonly #settings: TransactionSettings;

  constructor(options: DynamoJobStoreOptions) {
    const clock = options.clock ?? Date.now;
    this.client = options.client;
    this.tableName = options.tableName;
    this.layout = jobsLayout(options.tableName);
    this.#settings = {
      client: options.client,
      layout: { ...this.layout, tableName: options.stepTableName ?? options.tableName },
      outbox: {
        layout: this.layout,
        ttlSeconds: OutboxItem.defaultTtlSeconds,
        ttlAttribute: OutboxItem.defaultTtlAttribute,
      },
      source: options.source ?? 'jobs',
      maxEventBytes: Limits.maxEventBytes,
      now: () => new Date(clock()),
    };
  }

  async read(jobId: string): Promise<JobView | undefined> {
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

  checkpoint(): JobCheckpoint {
    return new DynamoCheckpoint(this, new Transaction(this.#settings), this.#settings.now);
  }

  async get(tableName: string | undefined, key: Key): Promise<Item | undefined> {
    const { Item: found } = await this.client.send(
      new GetCommand({
        TableName: tableName ?? this.#settings.layout.tableName,
        Key: key,
        ConsistentRead: true,
      }),
    );
    return found;
  }

  async publishOnce(
    events: readonly JobEventInput[],
    aggregate: { readonly type: string; readonly id: string },
  ): Promise<void> {
    const tx = new Transaction(this.#settings);
    for (const planned of planJobEvents(this.layout, 1, events, {
      now: this.#settings.now(),
      aggregate,
    }))
      tx.addAction(planned, planned.envelope);
    try {
      await tx.commit();
    } catch (error) {
      // Its outbox items exist: an earlier call published them.
      const published =
        error instanceof TransactionCanceledError &&
        error.failures.length > 0 &&
        error.failures.every((f) => f.code === 'ConditionalCheckFailed');
      if (!published) throw error;
    }
  }

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
      const { Item: found } = await this.client.send(
        new GetCommand({
          TableName: this.layout.tableName,
          Key: jobKey(job.jobId),
          ConsistentRead: true,
        }),
      );
      return found as JobRecord | undefined;
    }
  }

  async #query(jobId: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.layout.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ExpressionAttributeValues: { ':pk': jobKey(jobId).pk },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

class DynamoCheckpoint implements JobCheckpoint {
  readonly tx: Transaction;
  readonly #layout: TableLayout;
  readonly #now: () => Date;

  constructor(store: DynamoJobStore, tx: Transaction, now: () => Date) {
    this.tx = tx;
    this.#layout = store.layout;
    this.#now = now;
  }

  job(job: Pick<JobRecord, 'jobId' | 'version'>, changes: RecordChanges): void {
    this.tx.addAction(CheckpointPlans.job(this.#layout, job, changes));
  }

  running(job: Pick<JobRecord, 'jobId'>): void {
    this.tx.addAction(CheckpointPlans.running(this.#layout, job));
  }

  step(record: StepWrite, previous: StepRecord | undefined): void {
    this.tx.addAction(CheckpointPlans.step(this.#layout, record, previous));
  }

  task(
    task: Pick<TaskRecord, 'jobId' | 'stepIndex' | 'task' | 'version'>,
    changes: RecordChanges,
  ): void {
    this.tx.addAction(CheckpointPlans.task(this.#layout, task, changes));
  }

  createTask(task: Pick<TaskRecord, 'jobId' | 'stepIndex' | 'task'>): void {
    this.tx.addAction(CheckpointPlans.createTask(this.#layout, newTask(task)));
  }

  publish(version: number, events: readonly JobEventInput[]): void {
    for (const planned of planJobEvents(this.#layout, version, events, { now: this.#now() }))
      this.tx.addAction(planned, planned.envelope);
  }

  async commit(): Promise<'committed' | 'moved'> {
    try {
      await this.tx.commit();
      return 'committed';
    } catch (error) {
      if (
        error instanceof TransactionCanceledError &&
        error.failures.some(
          (f) => f.action.kind === jobActionKind && f.code === 'ConditionalCheckFailed',
        )
      )
        return 'moved';
      throw error;
    }
  }
}
