import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import type { InboxMessage } from '../delivery/messages.js';
import { createEnvelope } from '../envelope/create.js';
import type { EventEnvelope } from '../envelope/envelope.js';
import { OutboxItem } from '../envelope/outbox-item.js';
import { CheckpointPlans, newTask } from '../jobs/checkpoint-plans.js';
import {
  JobEvent,
  type JobEventInput,
  type JobEventPayload,
  planJobEvents,
} from '../jobs/messages.js';
import {
  JobKeys,
  type JobRecord,
  type StepRecord,
  stepItem,
  type TaskRecord,
  taskKey,
} from '../jobs/records.js';
import { newJobRecord, type StartableJob } from '../jobs/start.js';
import type { JobCheckpoint, JobStore, JobView, RecordChanges, StepWrite } from '../jobs/store.js';
import { jobsLayout } from '../jobs/table.js';
import { Limits } from '../shared/limits.js';
import type { Item, Key, TableLayout } from '../transaction/actions.js';
import type { PlannedAction } from '../transaction/planners.js';
import { Transaction } from '../transaction/transaction.js';
import { eventBridgeEventOf } from './builders.js';

/** One checkpoint as the memory store is asked to commit it. */
export interface MemoryCommit {
  /** What it does to job records, in order: `job`, `running`, `step`, `task`, `createTask`. */
  readonly changes: readonly string[];
  /** The step's or task's own writes (`ctx.tx`), as TransactWriteItems entries. */
  readonly writes: readonly TransactWriteItem[];
  /** The job events it publishes. */
  readonly events: readonly EventEnvelope<JobEventPayload>[];
}

export interface MemoryJobStoreOptions {
  /** The jobs table a runner over this store names. @default 'jobs' */
  readonly tableName?: string;
  /** The time, in ms since the epoch, of records and events. @default Date.now */
  readonly clock?: () => number;
  /** The table a step's `ctx.tx` and `ctx.get` use unless an action names another. @default tableName */
  readonly stepTableName?: string;
  /** `source` of the events steps publish through `ctx.tx`. @default 'jobs' */
  readonly source?: string;
  /** What `ctx.get` reads, by table name. */
  readonly items?: Readonly<Record<string, readonly Item[]>>;
  /**
   * Before a commit writes anything: throw to refuse it (a throttle, a conflict), or return
   * a promise that never settles to stop the invocation there (a crash).
   */
  readonly beforeCommit?: (commit: MemoryCommit) => void | Promise<void>;
  /** After a commit applied: throw to lose its response (its writes stay). */
  readonly afterCommit?: (commit: MemoryCommit) => void | Promise<void>;
}

interface StoredJob {
  job: JobRecord;
  readonly steps: Map<number, StepRecord>;
  readonly tasks: Map<string, TaskRecord>;
}

type Jobs = Map<string, StoredJob>;
/** A guarded change: whether its guard held (then it applied itself to the draft). */
type Change = (jobs: Jobs) => boolean;

/**
 * A job store in memory, for unit tests of job definitions and of the runner: the version
 * guards of the DynamoDB store (a checkpoint over a record that moved writes nothing), its
 * limits (an item or a transaction too large), and hooks to refuse, crash or lose the
 * response of any commit. A step's own writes (`ctx.tx`) are recorded in `writes`, neither
 * applied nor their own conditions evaluated; `ctx.get` reads `items`.
 *
 * @example
 * const store = new MemoryJobStore();
 * const runner = new JobRunner({ jobs: [fulfilOrder], tableName: store.tableName, store });
 * const started = await store.start(fulfilOrder, { orderId: '42' }, 'fulfil-42');
 * await runner.process(MemoryJobStore.messageOf(started));
 * (await store.read('fulfil-42'))?.job.jobState; // 'succeeded'
 */
export class MemoryJobStore implements JobStore {
  readonly tableName: string;
  readonly layout: TableLayout;
  /** Every event published, in order: runner messages and notices. */
  readonly published: EventEnvelope<JobEventPayload>[] = [];
  /** Every step's and task's own writes that committed, in order. */
  readonly writes: TransactWriteItem[] = [];
  /** Commits asked for, committed or not: what a test counts calls by. */
  commits = 0;
  readonly #jobs: Jobs = new Map();
  readonly #once = new Set<string>();
  readonly #options: MemoryJobStoreOptions;
  readonly clock: () => number;

  constructor(options: MemoryJobStoreOptions = {}) {
    this.#options = options;
    this.tableName = options.tableName ?? 'jobs';
    this.layout = jobsLayout(this.tableName);
    this.clock = options.clock ?? Date.now;
  }

  /** The message a runner gets for a published event, on its `receiveCount`-th delivery. */
  static messageOf(event: EventEnvelope, receiveCount = 1): InboxMessage {
    return {
      messageId: event.id,
      origin: 'sqs',
      body: JSON.stringify(eventBridgeEventOf(event)),
      receiveCount,
    };
  }

  /** Starts a job as `startJob` does: its record, pending, and the event that starts the runner. */
  async start<TInput>(
    job: StartableJob<TInput>,
    input: NoInfer<TInput>,
    jobId: string,
  ): Promise<EventEnvelope<JobEventPayload>> {
    const record = await newJobRecord(job, input, jobId, new Date(this.clock()));
    if (this.#jobs.has(jobId)) throw new Error(`job ${jobId} exists in this store`);
    this.#jobs.set(jobId, { job: record, steps: new Map(), tasks: new Map() });
    const payload = { jobId, name: job.name, jobsTable: this.tableName };
    const envelope = createEnvelope(
      { type: JobEvent.started, aggregate: { type: 'Job', id: jobId, version: 1 }, payload },
      { source: JobEvent.source, now: new Date(this.clock()) },
    );
    this.published.push(envelope);
    return envelope;
  }

  async read(jobId: string): Promise<JobView | undefined> {
    const stored = this.#jobs.get(jobId);
    if (!stored) return undefined;
    // In key order, as one query of the partition reads them.
    const bySortKey = (a: { sk: string }, b: { sk: string }) => a.sk.localeCompare(b.sk);
    return structuredClone({
      job: stored.job,
      steps: new Map([...stored.steps].sort(([a], [b]) => a - b)),
      tasks: [...stored.tasks.values()].sort(bySortKey),
    });
  }

  checkpoint(): JobCheckpoint {
    return new MemoryCheckpoint(this, this.#options, (commit, changes) =>
      this.#commit(commit, changes),
    );
  }

  async claimAggregation(
    job: JobRecord,
    claimant: string,
    times: { readonly now: string; readonly until: string },
  ): Promise<JobRecord | undefined> {
    const stored = this.#jobs.get(job.jobId);
    if (!stored) return undefined;
    const current = stored.job;
    const unheld =
      current.phase === 'tasks' ||
      (current.phase === 'aggregating' &&
        (current.claimUntil === undefined || current.claimUntil <= times.now));
    if (current.version === job.version && unheld)
      stored.job = {
        ...current,
        phase: 'aggregating',
        claim: claimant,
        claimUntil: times.until,
        updatedAt: times.now,
        version: current.version + 1,
      };
    return structuredClone(stored.job);
  }

  async publishOnce(
    events: readonly JobEventInput[],
    aggregate: { readonly type: string; readonly id: string },
  ): Promise<void> {
    const key = `${aggregate.type}/${aggregate.id}`;
    if (this.#once.has(key)) return;
    const planned = planJobEvents(this.layout, 1, events, {
      now: new Date(this.clock()),
      aggregate,
    });
    this.#once.add(key);
    this.published.push(...planned.map((p) => p.envelope));
  }

  async get(tableName: string | undefined, key: Key): Promise<Item | undefined> {
    const table = tableName ?? this.#options.stepTableName ?? this.tableName;
    const items = this.#options.items?.[table] ?? [];
    return items.find((item) => Object.entries(key).every(([name, value]) => item[name] === value));
  }

  /** Applies every change to a draft; keeps it, with the events, only if every guard held. */
  async #commit(commit: MemoryCommit, changes: readonly Change[]): Promise<'committed' | 'moved'> {
    this.commits++;
    await this.#options.beforeCommit?.(commit);
    const draft: Jobs = new Map([...this.#jobs].map(([id, s]) => [id, structuredClone(s)]));
    if (!changes.every((change) => change(draft))) return 'moved';
    for (const [id, stored] of draft) this.#jobs.set(id, stored);
    this.writes.push(...commit.writes);
    this.published.push(...commit.events);
    await this.#options.afterCommit?.(commit);
    return 'committed';
  }
}

/** The record with these changes: a value sets a field, `undefined` removes it. */
function changed<T extends { readonly version: number }>(record: T, changes: RecordChanges): T {
  const next: Record<string, unknown> = { ...record, version: record.version + 1 };
  for (const [name, value] of Object.entries(changes))
    if (value === undefined) delete next[name];
    else next[name] = value;
  return next as T;
}

class MemoryCheckpoint implements JobCheckpoint {
  readonly tx: Transaction;
  readonly #layout: TableLayout;
  readonly #now: () => Date;
  readonly #changes: Array<{ readonly kind: string; readonly change: Change }> = [];
  readonly #own = new Set<number>();
  readonly #events: EventEnvelope<JobEventPayload>[] = [];
  readonly #commit: (
    commit: MemoryCommit,
    changes: readonly Change[],
  ) => Promise<'committed' | 'moved'>;

  constructor(
    store: MemoryJobStore,
    options: MemoryJobStoreOptions,
    commit: (commit: MemoryCommit, changes: readonly Change[]) => Promise<'committed' | 'moved'>,
  ) {
    this.#commit = commit;
    this.#layout = store.layout;
    this.#now = () => new Date(store.clock());
    // A real transaction that is never sent: the step's writes, and the limits, are DynamoDB's.
    this.tx = new Transaction({
      client: {
        send: () => Promise.reject(new Error('a memory checkpoint sends nothing')),
      } as never,
      layout: { ...store.layout, tableName: options.stepTableName ?? store.tableName },
      outbox: {
        layout: store.layout,
        ttlSeconds: OutboxItem.defaultTtlSeconds,
        ttlAttribute: OutboxItem.defaultTtlAttribute,
      },
      source: options.source ?? 'jobs',
      maxEventBytes: Limits.maxEventBytes,
      now: this.#now,
    });
  }

  #add(kind: string, planned: PlannedAction, change: Change): void {
    this.#own.add(this.tx.addAction(planned).index);
    this.#changes.push({ kind, change });
  }

  job(job: Pick<JobRecord, 'jobId' | 'version'>, changes: RecordChanges): void {
    this.#add('job', CheckpointPlans.job(this.#layout, job, changes), (jobs) => {
      const stored = jobs.get(job.jobId);
      if (stored?.job.version !== job.version) return false;
      stored.job = changed(stored.job, changes);
      return true;
    });
  }

  running(job: Pick<JobRecord, 'jobId'>): void {
    this.#add(
      'running',
      CheckpointPlans.running(this.#layout, job),
      (jobs) => jobs.get(job.jobId)?.job.jobState === 'running',
    );
  }

  step(record: StepWrite, previous: StepRecord | undefined): void {
    const expected = previous?.version ?? 0;
    this.#add('step', CheckpointPlans.step(this.#layout, record, previous), (jobs) => {
      const stored = jobs.get(record.jobId);
      if (!stored || (stored.steps.get(record.stepIndex)?.version ?? 0) !== expected) return false;
      stored.steps.set(record.stepIndex, {
        ...stepItem(record),
        version: expected + 1,
      } as StepRecord);
      return true;
    });
  }

  task(
    task: Pick<TaskRecord, 'jobId' | 'stepIndex' | 'task' | 'version'>,
    changes: RecordChanges,
  ): void {
    const { sk } = taskKey(task.jobId, task.stepIndex, task.task);
    this.#add('task', CheckpointPlans.task(this.#layout, task, changes), (jobs) => {
      const current = jobs.get(task.jobId)?.tasks.get(sk);
      if (current?.version !== task.version) return false;
      jobs.get(task.jobId)?.tasks.set(sk, changed(current, changes));
      return true;
    });
  }

  createTask(task: Pick<TaskRecord, 'jobId' | 'stepIndex' | 'task'>): void {
    const record = newTask(task);
    this.#add('createTask', CheckpointPlans.createTask(this.#layout, record), (jobs) => {
      jobs
        .get(task.jobId)
        ?.tasks.set(record.sk, { ...record, _eventbox: JobKeys.taskMarker } as TaskRecord);
      return true;
    });
  }

  publish(version: number, events: readonly JobEventInput[]): void {
    // Planned as the DynamoDB store plans them, so they count against the same limits.
    for (const planned of planJobEvents(this.#layout, version, events, { now: this.#now() })) {
      this.#own.add(this.tx.addAction(planned, planned.envelope).index);
      this.#events.push(planned.envelope);
    }
  }

  async commit(): Promise<'committed' | 'moved'> {
    const { TransactItems = [] } = this.tx.params();
    const writes = TransactItems.filter((_, index) => !this.#own.has(index));
    return this.#commit(
      {
        changes: this.#changes.map((c) => c.kind),
        writes: writes as TransactWriteItem[],
        events: this.#events,
      },
      this.#changes.map((c) => c.change),
    );
  }
}
