import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Outcome } from '../consumer/engine.js';
import { InvalidMessageError } from '../consumer/errors.js';
import { envelopeOf, type InboxMessage } from '../consumer/messages.js';
import type { SettleContext } from '../consumer/settle.js';
import type { EventEnvelope } from '../envelope/envelope.js';
import { visibilityDelaySeconds } from '../shared/backoff.js';
import { type DynamoDbClientOptions, documentClient } from '../shared/dynamodb-client.js';
import { Limits } from '../shared/limits.js';
import { METRICS_NAMESPACE } from '../shared/metrics-namespace.js';
import type { Item, Key, PlannedAction } from '../transaction/actions.js';
import { TransactionCanceledError, TransactionConflictError } from '../transaction/errors.js';
import { itemSize } from '../transaction/item-size.js';
import { Transaction, type TransactionSettings } from '../transaction/transaction.js';
import type {
  AggregatorDecision,
  JobDefinition,
  ParallelStepDefinition,
  SequentialStepDefinition,
  StepContext,
  TaskOutcome,
} from './definition.js';
import { JobEvent, type JobEventPayload, planJobEvents, RUNNER_EVENT_TYPES } from './messages.js';
import { planMismatch } from './plan.js';
import {
  errorText,
  JobKeys,
  type JobRecord,
  JobState,
  type StepRecord,
  stepKey,
  storable,
  type TaskRecord,
  TaskState,
  taskKey,
} from './records.js';
import { currentStep, JobStore, type JobView } from './store.js';
import { jobsLayout } from './table.js';

export type JobRunnerOptions = {
  /** The jobs this runner runs. */
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any input and results
  readonly jobs: ReadonlyArray<JobDefinition<any, any>>;
  /** The jobs table: job and task records, and the outbox of job messages. */
  readonly tableName: string;
  /** The table `ctx.tx` writes to unless an action names another. @default tableName */
  readonly stepTableName?: string;
  /** `source` of the events steps publish through `ctx.tx`. @default 'jobs' */
  readonly source?: string;
  /** Names the runner in metrics and logs. @default 'job-runner' */
  readonly runnerName?: string;
  /** Where messages that are not job messages go, with their reason. */
  readonly deadLetterQueueUrl?: string;
  /**
   * The queue's redrive `maxReceiveCount`: on that delivery a job message that would come
   * back is dead-lettered here with its reason (the step's last error), not moved by SQS
   * with none. `eventbox jobs resume` takes the job on from there. @default none
   */
  readonly maxReceiveCount?: number;
  /** The queue the runner reads, so retries need no GetQueueUrl. @default looked up */
  readonly queueUrl?: string;
  /** Messages of a batch handled at once. @default 10 */
  readonly concurrency?: number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
} & DynamoDbClientOptions &
  (
    | { readonly sqsClient?: SQSClient; readonly sqsClientConfig?: never }
    | { readonly sqsClientConfig?: SQSClientConfig; readonly sqsClient?: never }
  );

/** Continue with this (newer) view of the job, or stop with this outcome. */
type Next = { readonly view: JobView } | { readonly outcome: Outcome };

// biome-ignore lint/suspicious/noExplicitAny: definitions of any input and results
type AnyJob = JobDefinition<any, any>;

/** The job record as a committed checkpoint left it: changes applied, `undefined` removed. */
function checkpointed(job: JobRecord, changes: Readonly<Record<string, unknown>>): JobRecord {
  const next: Record<string, unknown> = { ...job, ...changes, version: job.version + 1 };
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete next[name];
  return next as unknown as JobRecord;
}

const handledOutcome = (event: EventEnvelope): Outcome => ({
  status: 'handled',
  event,
  staleSkipped: 0,
  published: [],
});

/**
 * Runs jobs from their messages. A message says "run job X" (started, resumed) or "run
 * task T of job X": the runner reads the job record and carries on from its checkpoint.
 *
 * - A sequential step runs, then its writes commit with its checkpoint (its own step
 *   record, guarded by that record's version) in ONE transaction; the next step runs in
 *   the same invocation. A duplicate delivery finds the checkpoint there and moves on.
 * - A failing step records its attempt and its message comes back with capped, jittered
 *   backoff; after `maxAttempts` the job stalls at the step, with the reason.
 * - A parallel step fans out: its task records and one message per task commit with the
 *   checkpoint. Each task commits its own checkpoint; the invocation that sees every task
 *   ended claims the aggregation with one conditional write and runs the aggregator, whose
 *   decision commits with its writes. A finished task never runs again.
 */
export class JobRunner implements SettleContext {
  readonly consumerName: string;
  readonly client: DynamoDBDocumentClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly options: JobRunnerOptions;
  readonly store: JobStore;
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any input and results
  readonly #jobs: ReadonlyMap<string, JobDefinition<any, any>>;
  readonly #stepSettings: TransactionSettings;

  constructor(options: JobRunnerOptions) {
    this.options = options;
    this.consumerName = options.runnerName ?? 'job-runner';
    this.client = documentClient(options);
    this.logger = options.logger ?? new Logger({ serviceName: this.consumerName });
    this.metrics =
      options.metrics ??
      new Metrics({ namespace: METRICS_NAMESPACE, serviceName: this.consumerName });
    const layout = jobsLayout(options.tableName);
    this.store = new JobStore(this.client, layout);
    this.#jobs = new Map(options.jobs.map((job) => [job.name, job]));
    this.#stepSettings = {
      client: this.client,
      layout: { ...layout, tableName: options.stepTableName ?? options.tableName },
      outbox: { layout, ttlSeconds: 7 * 24 * 3600, ttlAttribute: 'ttl' },
      source: options.source ?? 'jobs',
      maxEventBytes: Limits.maxEventBytes,
      now: () => new Date(),
    };
  }

  /** Delay before a message that failed unexpectedly comes back. */
  backoffSeconds(receiveCount: number): number {
    return visibilityDelaySeconds({ baseSeconds: 1, capSeconds: 300 }, receiveCount);
  }

  /** Handles one message end to end. */
  async process(message: InboxMessage): Promise<Outcome> {
    let event: EventEnvelope;
    try {
      event = envelopeOf(message);
    } catch (error) {
      if (error instanceof InvalidMessageError)
        return { status: 'dead-letter', reason: error.message };
      throw error;
    }
    const payload = event.payload as Partial<JobEventPayload> | null;
    if (
      event.source !== JobEvent.source ||
      !(RUNNER_EVENT_TYPES as readonly string[]).includes(event.type) ||
      typeof payload?.jobId !== 'string'
    ) {
      return {
        status: 'dead-letter',
        event,
        reason: `not a job runner message: ${event.source} ${event.type}`,
      };
    }
    if (payload.jobsTable !== this.options.tableName) {
      return {
        status: 'dead-letter',
        event,
        reason: `a message for jobs table ${payload.jobsTable}; this runner runs ${this.options.tableName}`,
      };
    }
    try {
      const view = await this.store.all(payload.jobId);
      if (!view)
        return { status: 'dead-letter', event, reason: `job ${payload.jobId} does not exist` };
      const definition = this.#jobs.get(view.job.name);
      if (!definition) {
        return this.#end(
          event,
          await this.#stall(event, view, `this runner has no definition of job "${view.job.name}"`),
        );
      }
      const mismatch = planMismatch(view.job.plan, definition);
      if (mismatch) {
        const ended =
          view.job.jobState !== JobState.pending && view.job.jobState !== JobState.running;
        return ended
          ? handledOutcome(event)
          : this.#end(event, await this.#stall(event, view, mismatch));
      }
      const next =
        event.type === JobEvent.task
          ? await this.#runTask(event, definition, view, payload as JobEventPayload)
          : { view };
      return 'outcome' in next ? next.outcome : await this.#advance(event, definition, next.view);
    } catch (error) {
      return { status: 'failed', event, error };
    }
  }

  #end(event: EventEnvelope, next: Next): Outcome {
    return 'outcome' in next ? next.outcome : handledOutcome(event);
  }

  async #advance(event: EventEnvelope, definition: AnyJob, start: JobView): Promise<Outcome> {
    let view = start;
    for (;;) {
      const { job } = view;
      if (job.jobState !== JobState.pending && job.jobState !== JobState.running)
        return handledOutcome(event);
      const index = currentStep(view);
      const step = definition.steps[index];
      let next: Next;
      if (!step) next = await this.#finish(event, view);
      else if (step.kind === 'step')
        next = await this.#runStep(event, definition, view, index, step);
      else if (job.phase === undefined || job.phaseStep !== index)
        next = await this.#fanOut(event, view, index, step);
      else next = await this.#aggregate(event, view, index, step, `advance:${job.round ?? 1}`);
      if ('outcome' in next) return next.outcome;
      view = next.view;
    }
  }

  /** A step's context: its transaction, idempotency key and reads. */
  #context(
    tx: Transaction,
    job: JobRecord,
    step: string,
    attempt: number,
    task?: string,
  ): StepContext {
    const { client } = this;
    const tableName = this.#stepSettings.layout.tableName;
    return {
      tx,
      jobId: job.jobId,
      step,
      ...(task === undefined ? {} : { task }),
      idempotencyKey: [job.jobId, step, ...(task === undefined ? [] : [task])].join(':'),
      attempt,
      logger: this.logger,
      async get<TItem extends Item = Item>(
        key: Key,
        options: { readonly tableName?: string } = {},
      ) {
        const { Item: found } = await client.send(
          new GetCommand({
            TableName: options.tableName ?? tableName,
            Key: key,
            ConsistentRead: true,
          }),
        );
        return found as TItem | undefined;
      },
    };
  }

  #args(view: JobView, definition: AnyJob) {
    const results: Record<string, unknown> = {};
    for (const [index, record] of view.steps) {
      const name = definition.steps[index]?.name ?? record.step;
      if (record.stepState === 'succeeded' && record.result !== undefined)
        results[name] = JSON.parse(record.result) as unknown;
    }
    return { input: JSON.parse(view.job.input) as unknown, results };
  }

  /**
   * Commits a checkpoint. `moved` when a job, step or task record the checkpoint guards
   * was changed by someone else first (nothing was written); any other refusal is thrown.
   */
  async #commit(tx: Transaction): Promise<'committed' | 'moved'> {
    try {
      await tx.commit();
      return 'committed';
    } catch (error) {
      if (
        error instanceof TransactionCanceledError &&
        error.failures.some((f) => f.action.kind === 'job' && f.code === 'ConditionalCheckFailed')
      )
        return 'moved';
      throw error;
    }
  }

  async #reload(view: JobView): Promise<Next> {
    const latest = await this.store.all(view.job.jobId);
    return latest
      ? { view: latest }
      : { outcome: { status: 'dead-letter', reason: `job ${view.job.jobId} disappeared` } };
  }

  /**
   * Adds the actions (events with their envelopes) to the transaction; why it cannot take
   * them (an item or the transaction over DynamoDB's limits), or undefined when it took all.
   */
  #planned(
    tx: Transaction,
    actions: ReadonlyArray<PlannedAction & { readonly envelope?: EventEnvelope }>,
  ): string | undefined {
    try {
      for (const action of actions) tx.addAction(action, action.envelope);
      return undefined;
    } catch (error) {
      return errorText(error);
    }
  }

  #tx(): Transaction {
    return new Transaction(this.#stepSettings);
  }

  #now(): string {
    return new Date().toISOString();
  }

  /** The step's record: what the checkpoint writes, the view gains once it commits. */
  #stepRecord(
    view: JobView,
    index: number,
    name: string,
    fields: Pick<StepRecord, 'stepState' | 'attempts'> &
      Partial<Pick<StepRecord, 'lastError' | 'result' | 'startedAt' | 'finishedAt'>>,
  ) {
    const previous = view.steps.get(index);
    const record = { jobId: view.job.jobId, stepIndex: index, step: name, ...fields };
    return {
      planned: this.store.planStep(record, previous),
      committed: {
        ...stepKey(view.job.jobId, index),
        ...record,
        version: (previous?.version ?? 0) + 1,
      } as StepRecord,
    };
  }

  async #runStep(
    event: EventEnvelope,
    definition: AnyJob,
    view: JobView,
    index: number,
    step: SequentialStepDefinition,
  ): Promise<Next> {
    const previous = view.steps.get(index);
    const attempt = (previous?.attempts ?? 0) + 1;
    const startedAt = previous?.startedAt ?? this.#now();
    const tx = this.#tx();
    let value: unknown;
    try {
      value = await step.run({
        ...this.#args(view, definition),
        ctx: this.#context(tx, view.job, step.name, attempt),
      });
    } catch (error) {
      return this.#stepFailed(event, definition, view, index, step.name, attempt, startedAt, error);
    }
    const stored = storable(value);
    if ('problem' in stored) {
      return this.#stall(
        event,
        view,
        `step "${step.name}" returned a value that cannot be stored: ${stored.problem}`,
      );
    }
    const now = this.#now();
    const checkpoint = this.#stepRecord(view, index, step.name, {
      stepState: 'succeeded',
      attempts: attempt,
      result: stored.json,
      startedAt,
      finishedAt: now,
    });
    const size = itemSize(checkpoint.committed);
    if (size > Limits.maxItemBytes) {
      return this.#stall(
        event,
        view,
        `the result of step "${step.name}" would make its record ${size} bytes, over DynamoDB's ${Limits.maxItemBytes}-byte item limit`,
      );
    }
    const starts = view.job.jobState === JobState.pending;
    try {
      tx.addAction(checkpoint.planned);
      if (starts)
        tx.addAction(this.store.planJob(view.job, { jobState: JobState.running, updatedAt: now }));
    } catch (error) {
      return this.#stall(
        event,
        view,
        `step "${step.name}": its writes and checkpoint cannot be committed: ${errorText(error)}`,
      );
    }
    let committed: 'committed' | 'moved';
    try {
      committed = await this.#commit(tx);
    } catch (error) {
      // The step's own writes were refused (a condition of its own): a failure of the step.
      // Anything else (throttling, a network error, contention with another writer of an
      // item it writes) is not the step's: retried uncounted.
      if (!(error instanceof TransactionCanceledError) || error instanceof TransactionConflictError)
        throw error;
      return this.#stepFailed(event, definition, view, index, step.name, attempt, startedAt, error);
    }
    if (committed === 'moved') return this.#reload(view);
    this.metrics.addMetric('StepsCompleted', MetricUnit.Count, 1);
    return {
      view: {
        ...view,
        job: starts
          ? checkpointed(view.job, { jobState: JobState.running, updatedAt: now })
          : view.job,
        steps: new Map(view.steps).set(index, checkpoint.committed),
      },
    };
  }

  async #stepFailed(
    event: EventEnvelope,
    definition: AnyJob,
    view: JobView,
    index: number,
    step: string,
    attempt: number,
    startedAt: string,
    error: unknown,
  ): Promise<Next> {
    const lastError = errorText(error);
    this.logger.warn('step failed', { jobId: view.job.jobId, step, attempt, error });
    if (attempt >= definition.maxAttempts) {
      return this.#stall(
        event,
        view,
        `step "${step}" failed ${attempt} times; last: ${lastError}`,
        this.#stepRecord(view, index, step, {
          stepState: 'stalled',
          attempts: attempt,
          lastError,
          startedAt,
        }),
      );
    }
    const tx = this.#tx();
    tx.addAction(
      this.#stepRecord(view, index, step, {
        stepState: 'running',
        attempts: attempt,
        lastError,
        startedAt,
      }).planned,
    );
    if ((await this.#commit(tx)) === 'moved') return this.#reload(view);
    return {
      outcome: {
        status: 'retry',
        kind: 'step',
        event,
        reason: `step "${step}" of job ${view.job.jobId} failed (attempt ${attempt} of ${definition.maxAttempts}): ${lastError}`,
        delaySeconds: visibilityDelaySeconds(definition.backoff, attempt),
      },
    };
  }

  /** Ends the job where it is, with the reason; an operator resumes it. */
  async #stall(
    event: EventEnvelope,
    view: JobView,
    reason: string,
    step?: { readonly planned: PlannedAction },
  ): Promise<Next> {
    const { job } = view;
    const tx = this.#tx();
    tx.addAction(
      this.store.planJob(job, { jobState: JobState.stalled, reason, updatedAt: this.#now() }),
    );
    if (step) tx.addAction(step.planned);
    for (const planned of this.#notices(job, JobEvent.stalled, reason))
      tx.addAction(planned, planned.envelope);
    if ((await this.#commit(tx)) === 'moved') return this.#reload(view);
    this.metrics.addMetric('StalledJobs', MetricUnit.Count, 1);
    this.logger.error('job stalled', { jobId: job.jobId, name: job.name, reason });
    return { outcome: handledOutcome(event) };
  }

  async #finish(event: EventEnvelope, view: JobView): Promise<Next> {
    const { job } = view;
    const now = this.#now();
    const tx = this.#tx();
    tx.addAction(
      this.store.planJob(job, { jobState: JobState.succeeded, finishedAt: now, updatedAt: now }),
    );
    for (const planned of this.#notices(job, JobEvent.succeeded))
      tx.addAction(planned, planned.envelope);
    if ((await this.#commit(tx)) === 'moved') return this.#reload(view);
    this.metrics.addMetric('JobsSucceeded', MetricUnit.Count, 1);
    this.logger.info('job succeeded', { jobId: job.jobId, name: job.name });
    return { outcome: handledOutcome(event) };
  }

  /** The notice of a job's end or stall, for other services: published with the checkpoint. */
  #notices(job: JobRecord, type: string, reason?: string) {
    return planJobEvents(
      this.store.layout,
      job.version + 1,
      [
        {
          type,
          payload: {
            jobId: job.jobId,
            name: job.name,
            jobsTable: this.options.tableName,
            ...(reason === undefined ? {} : { reason }),
          },
        },
      ],
      { now: new Date() },
    );
  }

  #taskEvents(job: JobRecord, stepIndex: number, tasks: readonly string[], round: number) {
    return planJobEvents(
      this.store.layout,
      job.version + 1,
      tasks.map((task) => ({
        type: JobEvent.task,
        payload: {
          jobId: job.jobId,
          name: job.name,
          jobsTable: this.options.tableName,
          stepIndex,
          task,
          round,
        },
      })),
      { now: new Date() },
    );
  }

  /** Starts a parallel step: its task records and one message per task, with the checkpoint. */
  async #fanOut(
    event: EventEnvelope,
    view: JobView,
    index: number,
    step: ParallelStepDefinition,
  ): Promise<Next> {
    const { job } = view;
    const now = this.#now();
    const tasks = Object.keys(step.tasks);
    const tx = this.#tx();
    for (const task of tasks) {
      const record: TaskRecord = {
        ...taskKey(job.jobId, index, task),
        jobId: job.jobId,
        stepIndex: index,
        task,
        taskState: TaskState.pending,
        attempts: 0,
        round: 1,
        version: 1,
      };
      tx.put(
        { ...record, _eventbox: JobKeys.taskMarker },
        { tableName: this.store.layout.tableName },
      );
    }
    tx.addAction(
      this.#stepRecord(view, index, step.name, {
        stepState: 'running',
        attempts: 0,
        startedAt: now,
      }).planned,
    );
    tx.addAction(
      this.store.planJob(job, {
        jobState: JobState.running,
        phase: 'tasks',
        phaseStep: index,
        round: 1,
        claim: undefined,
        updatedAt: now,
      }),
    );
    for (const planned of this.#taskEvents(job, index, tasks, 1))
      tx.addAction(planned, planned.envelope);
    if ((await this.#commit(tx)) === 'moved') return this.#reload(view);
    return { outcome: handledOutcome(event) };
  }

  async #runTask(
    event: EventEnvelope,
    definition: AnyJob,
    view: JobView,
    message: JobEventPayload,
  ): Promise<Next> {
    const { job } = view;
    const { stepIndex = -1, task: name = '', round = 1 } = message;
    const step = definition.steps[stepIndex];
    const run = step?.kind === 'parallel' ? step.tasks[name] : undefined;
    if (step?.kind !== 'parallel' || !run) {
      return this.#stall(
        event,
        view,
        `task "${name}" of step ${stepIndex} is not in the definition of job "${job.name}"`,
      );
    }
    // A message of an earlier step or round: that task is done, but the invocation that went
    // on from it may have died, so carry on from the job's checkpoint.
    if (job.jobState !== JobState.running || job.phase === undefined || job.phaseStep !== stepIndex)
      return { view };
    const task = view.tasks.find((t) => t.stepIndex === stepIndex && t.task === name);
    if (!task || task.round !== round) return { view };
    const claimant = `${round}:${name}`;
    // Finished before (a redelivery after a crash): never again; see whether to aggregate.
    if (task.taskState !== TaskState.pending)
      return this.#aggregate(event, view, stepIndex, step, claimant);

    const attempt = task.attempts + 1;
    const startedAt = task.startedAt ?? this.#now();
    const tx = this.#tx();
    let value: unknown;
    const failed = (attempts: number, error: unknown) =>
      this.#taskFailed(
        event,
        definition,
        view,
        stepIndex,
        step,
        task,
        attempts,
        startedAt,
        error,
        claimant,
      );
    try {
      value = await run({
        ...this.#args(view, definition),
        ctx: this.#context(tx, job, step.name, attempt, name),
      });
    } catch (error) {
      return failed(attempt, error);
    }
    const stored = storable(value);
    if ('problem' in stored) {
      return failed(
        step.maxTaskAttempts,
        new Error(`returned a value that cannot be stored: ${stored.problem}`),
      );
    }
    try {
      tx.addAction(
        this.store.planTask(task, {
          taskState: TaskState.succeeded,
          attempts: attempt,
          result: stored.json,
          startedAt,
          finishedAt: this.#now(),
        }),
      );
    } catch (error) {
      // A result over the item limit, or writes over the transaction's: no retry can
      // commit them, so the task fails for good and the aggregator decides.
      return failed(
        step.maxTaskAttempts,
        new Error(`its result and writes cannot be committed: ${errorText(error)}`),
      );
    }
    let committed: 'committed' | 'moved';
    try {
      committed = await this.#commit(tx);
    } catch (error) {
      // Contention on an item the task writes is no failure of the task: retried uncounted.
      if (!(error instanceof TransactionCanceledError) || error instanceof TransactionConflictError)
        throw error;
      return failed(attempt, error);
    }
    // Another delivery of this task checkpointed first and ours wrote nothing; that one may
    // have died before aggregating, so see whether to.
    if (committed === 'moved') return this.#aggregate(event, view, stepIndex, step, claimant);
    this.metrics.addMetric('TasksCompleted', MetricUnit.Count, 1);
    return this.#aggregate(event, view, stepIndex, step, claimant);
  }

  async #taskFailed(
    event: EventEnvelope,
    definition: AnyJob,
    view: JobView,
    stepIndex: number,
    step: ParallelStepDefinition,
    task: TaskRecord,
    attempt: number,
    startedAt: string,
    error: unknown,
    claimant: string,
  ): Promise<Next> {
    const lastError = errorText(error);
    this.logger.warn('task failed', {
      jobId: view.job.jobId,
      step: step.name,
      task: task.task,
      attempt,
      error,
    });
    const final = attempt >= step.maxTaskAttempts;
    const tx = this.#tx();
    tx.addAction(
      this.store.planTask(task, {
        ...(final ? { taskState: TaskState.failed, finishedAt: this.#now() } : {}),
        attempts: attempt,
        lastError,
        startedAt,
      }),
    );
    if ((await this.#commit(tx)) === 'moved') return { outcome: handledOutcome(event) };
    if (final) return this.#aggregate(event, view, stepIndex, step, claimant);
    return {
      outcome: {
        status: 'retry',
        kind: 'task',
        event,
        reason: `task "${task.task}" of step "${step.name}" of job ${view.job.jobId} failed (attempt ${attempt} of ${step.maxTaskAttempts}): ${lastError}`,
        delaySeconds: visibilityDelaySeconds(definition.backoff, attempt),
      },
    };
  }

  /**
   * When every task of the step has ended: claims the aggregation (one invocation wins),
   * runs the aggregator, and commits its decision with its writes.
   */
  async #aggregate(
    event: EventEnvelope,
    seen: JobView,
    index: number,
    step: ParallelStepDefinition,
    claimant: string,
  ): Promise<Next> {
    const latest = await this.store.all(seen.job.jobId);
    if (!latest) return { outcome: handledOutcome(event) };
    const tasks = latest.tasks.filter((t) => t.stepIndex === index);
    if (tasks.length === 0 || tasks.some((t) => t.taskState === TaskState.pending))
      return { outcome: handledOutcome(event) };
    let job: JobRecord | undefined = latest.job;
    if (job.jobState !== JobState.running || job.phaseStep !== index)
      return { outcome: handledOutcome(event) };
    if (job.phase === 'tasks') job = await this.store.claimAggregation(job, claimant, this.#now());
    if (job?.phase !== 'aggregating' || job.claim !== claimant)
      return { outcome: handledOutcome(event) };
    const view: JobView = { ...latest, job };

    const round = job.round ?? 1;
    const outcomes = Object.fromEntries(
      tasks.map((t): [string, TaskOutcome] => [
        t.task,
        {
          state: t.taskState === TaskState.succeeded ? 'succeeded' : 'failed',
          ...(t.result === undefined ? {} : { result: JSON.parse(t.result) as unknown }),
          ...(t.lastError === undefined ? {} : { error: t.lastError }),
          attempts: t.attempts,
        },
      ]),
    );
    const definition = this.#jobs.get(job.name) as AnyJob;
    const tx = this.#tx();
    let decision: AggregatorDecision<unknown>;
    try {
      decision = await step.aggregate({
        ...this.#args(view, definition),
        tasks: outcomes,
        round,
        ctx: this.#context(tx, job, step.name, round),
      });
    } catch (error) {
      return this.#stall(
        event,
        view,
        `the aggregator of step "${step.name}" threw: ${errorText(error)}`,
      );
    }
    const now = this.#now();
    const record = view.steps.get(index);
    const decided = `the decision of the aggregator of step "${step.name}" cannot be committed with its writes`;
    if (decision && typeof decision === 'object' && 'continue' in decision) {
      const stored = storable(decision.continue);
      if ('problem' in stored)
        return this.#stall(
          event,
          view,
          `the aggregator of step "${step.name}" returned a value that cannot be stored: ${stored.problem}`,
        );
      const checkpoint = this.#stepRecord(view, index, step.name, {
        stepState: 'succeeded',
        attempts: round,
        result: stored.json,
        startedAt: record?.startedAt ?? now,
        finishedAt: now,
      });
      const changes = {
        phase: undefined,
        phaseStep: undefined,
        claim: undefined,
        round: undefined,
        updatedAt: now,
      };
      const unplanned = this.#planned(tx, [checkpoint.planned, this.store.planJob(job, changes)]);
      if (unplanned) return this.#stall(event, view, `${decided}: ${unplanned}`);
      if ((await this.#commit(tx)) === 'moved') return { outcome: handledOutcome(event) };
      this.metrics.addMetric('StepsCompleted', MetricUnit.Count, 1);
      // The next steps run in this invocation, from the checkpoint just committed.
      return {
        view: {
          ...view,
          job: checkpointed(job, changes),
          steps: new Map(view.steps).set(index, checkpoint.committed),
        },
      };
    }
    if (decision && typeof decision === 'object' && 'fail' in decision) {
      const unplanned = this.#planned(tx, [
        this.store.planJob(job, {
          jobState: JobState.failed,
          reason: String(decision.fail),
          claim: undefined,
          finishedAt: now,
          updatedAt: now,
        }),
        ...this.#notices(job, JobEvent.failed, String(decision.fail)),
      ]);
      if (unplanned) return this.#stall(event, view, `${decided}: ${unplanned}`);
      if ((await this.#commit(tx)) === 'moved') return { outcome: handledOutcome(event) };
      this.metrics.addMetric('JobsFailed', MetricUnit.Count, 1);
      this.logger.warn('job failed', { jobId: job.jobId, reason: decision.fail });
      return { outcome: handledOutcome(event) };
    }
    if (
      decision &&
      typeof decision === 'object' &&
      'retry' in decision &&
      Array.isArray(decision.retry)
    ) {
      const failed = new Set(
        tasks.filter((t) => t.taskState === TaskState.failed).map((t) => t.task),
      );
      const wrong = decision.retry.filter((name) => !failed.has(name));
      if (decision.retry.length === 0 || wrong.length > 0) {
        return this.#stall(
          event,
          view,
          `the aggregator of step "${step.name}" asked to retry ${JSON.stringify(decision.retry)}, but only failed tasks can be retried (${[...failed].join(', ') || 'none failed'})`,
        );
      }
      if (round >= step.maxRounds) {
        return this.#stall(
          event,
          view,
          `step "${step.name}": tasks ${decision.retry.join(', ')} still failing after ${round} rounds`,
        );
      }
      const unplanned = this.#planned(tx, [
        ...tasks
          .filter((t) => decision.retry.includes(t.task))
          .map((task) =>
            this.store.planTask(task, {
              taskState: TaskState.pending,
              attempts: 0,
              round: round + 1,
              lastError: undefined,
              finishedAt: undefined,
            }),
          ),
        this.store.planJob(job, {
          phase: 'tasks',
          claim: undefined,
          round: round + 1,
          updatedAt: now,
        }),
        ...this.#taskEvents(job, index, decision.retry, round + 1),
      ]);
      if (unplanned) return this.#stall(event, view, `${decided}: ${unplanned}`);
      if ((await this.#commit(tx)) === 'moved') return { outcome: handledOutcome(event) };
      this.metrics.addMetric('TaskRounds', MetricUnit.Count, 1);
      return { outcome: handledOutcome(event) };
    }
    return this.#stall(
      event,
      view,
      `the aggregator of step "${step.name}" returned ${JSON.stringify(decision)}; it must return { continue }, { retry: [...] } or { fail }`,
    );
  }
}
