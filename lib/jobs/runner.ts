import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Outcome } from '../consumer/engine.js';
import { InvalidMessageError } from '../consumer/errors.js';
import { envelopeOf, type InboxMessage } from '../consumer/messages.js';
import type { SettleContext } from '../consumer/settle.js';
import type { EventEnvelope } from '../envelope/envelope.js';
import { OutboxItem } from '../envelope/outbox-item.js';
import { visibilityDelaySeconds } from '../shared/backoff.js';
import { type DynamoDbClientOptions, documentClient } from '../shared/dynamodb-client.js';
import { Limits } from '../shared/limits.js';
import { METRICS_NAMESPACE } from '../shared/metrics-namespace.js';
import type { Item, Key } from '../transaction/actions.js';
import { TransactionCanceledError, TransactionConflictError } from '../transaction/errors.js';
import { itemSize } from '../transaction/item-size.js';
import type { PlannedAction } from '../transaction/planners.js';
import { Transaction, type TransactionSettings } from '../transaction/transaction.js';
import { attemptState, type Delivery, secondsUntil } from './attempts.js';
import type {
  AggregatorDecision,
  JobDefinition,
  ParallelStepDefinition,
  SequentialStepDefinition,
  StepContext,
  TaskOutcome,
} from './definition.js';
import { JobRunnerMetrics } from './environment.js';
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
import { currentStep, JobStore, type JobView, jobActionKind } from './store.js';
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
  /**
   * How long an attempt (or an aggregation) is held by its invocation when the invocation's
   * deadline is not known: after it, another delivery counts the attempt as died (a
   * timeout or crash) and goes on. The Lambda handler holds it until its own deadline.
   * @default 900 (Lambda's longest timeout)
   */
  readonly attemptLeaseSeconds?: number;
  /** The time, in ms since the epoch. @default Date.now */
  readonly clock?: () => number;
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
  readonly #clock: () => number;

  constructor(options: JobRunnerOptions) {
    this.options = options;
    this.#clock = options.clock ?? Date.now;
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
      outbox: {
        layout,
        ttlSeconds: OutboxItem.defaultTtlSeconds,
        ttlAttribute: OutboxItem.defaultTtlAttribute,
      },
      source: options.source ?? 'jobs',
      maxEventBytes: Limits.maxEventBytes,
      now: () => new Date(this.#clock()),
    };
  }

  /** Delay before a message that failed unexpectedly comes back. */
  backoffSeconds(receiveCount: number): number {
    return visibilityDelaySeconds({ baseSeconds: 1, capSeconds: 300 }, receiveCount);
  }

  /**
   * Handles one message end to end. `deadline` (ms since the epoch) is when the invocation
   * ends at the latest: the attempts it starts are held until then.
   */
  async process(
    message: InboxMessage,
    invocation: { readonly deadline?: number } = {},
  ): Promise<Outcome> {
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
    const { attemptLeaseSeconds = 900 } = this.options;
    const delivery: Delivery = {
      event,
      holder: randomUUID(),
      leaseUntil: invocation.deadline ?? this.#clock() + attemptLeaseSeconds * 1000,
      last: this.isLastDelivery(message),
    };
    // The queue will not bring this message back: a new one takes the job on first, so
    // whatever happens to this delivery (a retry, an error, a timeout) the job goes on.
    if (delivery.last && (await this.#handOff(delivery))) {
      const outcome = await this.#run(message, { ...delivery, last: false }, payload.jobId);
      return outcome.status === 'retry' || outcome.status === 'failed'
        ? handledOutcome(event)
        : outcome;
    }
    return this.#run(message, delivery, payload.jobId);
  }

  /** Whether the queue will not bring this message back (its `maxReceiveCount`-th receive). */
  isLastDelivery(message: InboxMessage): boolean {
    const { maxReceiveCount } = this.options;
    return maxReceiveCount !== undefined && message.receiveCount >= maxReceiveCount;
  }

  async #run(message: InboxMessage, delivery: Delivery, jobId: string): Promise<Outcome> {
    const { event } = delivery;
    const payload = event.payload as JobEventPayload;
    try {
      const view = await this.store.all(payload.jobId);
      if (!view)
        return { status: 'dead-letter', event, reason: `job ${payload.jobId} does not exist` };
      const definition = this.#jobs.get(view.job.name);
      if (!definition) {
        return this.#end(
          delivery,
          await this.#stall(
            delivery,
            view,
            `this runner has no definition of job "${view.job.name}"`,
          ),
        );
      }
      const mismatch = planMismatch(view.job.plan, definition);
      if (mismatch) {
        return ended(view.job)
          ? handledOutcome(event)
          : this.#end(delivery, await this.#stall(delivery, view, mismatch));
      }
      const next =
        event.type === JobEvent.task
          ? await this.#runTask(delivery, definition, view, payload as JobEventPayload)
          : { view };
      return 'outcome' in next
        ? next.outcome
        : await this.#advance(delivery, definition, next.view);
    } catch (error) {
      return this.#failed(delivery, message, jobId, error);
    }
  }

  /**
   * An error nothing caught (the table unreachable, access denied): the message comes
   * back; on its last delivery, when no new message could take the job on, the job stalls
   * with the error rather than the message leaving for the dead-letter queue while its
   * job stays "running".
   */
  async #failed(
    delivery: Delivery,
    message: InboxMessage,
    jobId: string,
    error: unknown,
  ): Promise<Outcome> {
    const failed: Outcome = { status: 'failed', event: delivery.event, error };
    if (!delivery.last) return failed;
    try {
      const view = await this.store.all(jobId);
      if (!view || ended(view.job)) return failed;
      const reason = `its message was received ${message.receiveCount} times, the queue's maxReceiveCount, and failed: ${errorText(error)}`;
      return this.#end(delivery, await this.#stall(delivery, view, reason));
    } catch {
      return failed;
    }
  }

  #end(delivery: Delivery, next: Next): Outcome {
    return 'outcome' in next ? next.outcome : handledOutcome(delivery.event);
  }

  async #advance(delivery: Delivery, definition: AnyJob, start: JobView): Promise<Outcome> {
    let view = start;
    for (;;) {
      const { job } = view;
      if (ended(job)) return handledOutcome(delivery.event);
      const index = currentStep(view);
      const step = definition.steps[index];
      let next: Next;
      if (!step) next = await this.#finish(delivery, view);
      else if (step.kind === 'step')
        next = await this.#runStep(delivery, definition, view, index, step);
      else if (job.phase === undefined || job.phaseStep !== index)
        next = await this.#fanOut(delivery, view, index, step);
      else next = await this.#aggregate(delivery, view, index, step);
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
        error.failures.some(
          (f) => f.action.kind === jobActionKind && f.code === 'ConditionalCheckFailed',
        )
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

  #iso(at: number = this.#clock()): string {
    return new Date(at).toISOString();
  }

  /**
   * Commits the message that takes the job on when the queue will not bring this one back:
   * the same message anew, once per message however often it is delivered. Whether it
   * exists (this commit made it, or another copy did).
   */
  async #handOff(delivery: Delivery): Promise<boolean> {
    const { event } = delivery;
    const payload = event.payload as JobEventPayload;
    const [planned] = planJobEvents(this.store.layout, 1, [{ type: event.type, payload }], {
      now: new Date(this.#clock()),
      aggregate: { type: 'JobHandOff', id: `${payload.jobId}/${event.id}` },
    });
    const tx = this.#tx();
    if (planned) tx.addAction(planned, planned.envelope);
    try {
      await tx.commit();
    } catch (error) {
      const taken =
        error instanceof TransactionCanceledError &&
        error.failures.length > 0 &&
        error.failures.every((f) => f.code === 'ConditionalCheckFailed');
      if (!taken) return false;
    }
    this.logger.info('job handed to a new message: this one is on its last delivery', {
      jobId: payload.jobId,
      eventId: event.id,
    });
    return true;
  }

  /**
   * This delivery waits (an attempt is held, or a backoff runs) and comes back at `until`,
   * uncounted, and in its own metric: a copy waiting is no step or task failing.
   */
  #wait(delivery: Delivery, view: JobView, reason: string, until: number): Next {
    return {
      outcome: {
        status: 'retry',
        kind: 'waiting',
        event: delivery.event,
        reason: `${reason} (job ${view.job.jobId})`,
        delaySeconds: secondsUntil(until, this.#clock()),
      },
    };
  }

  /** The step's record: what the checkpoint writes, the view gains once it commits. */
  #stepRecord(
    view: JobView,
    index: number,
    name: string,
    fields: Pick<StepRecord, 'stepState' | 'attempts'> &
      Partial<
        Pick<
          StepRecord,
          | 'lastError'
          | 'result'
          | 'startedAt'
          | 'finishedAt'
          | 'holder'
          | 'leaseUntil'
          | 'notBefore'
        >
      >,
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
    delivery: Delivery,
    definition: AnyJob,
    view: JobView,
    index: number,
    step: SequentialStepDefinition,
  ): Promise<Next> {
    const previous = view.steps.get(index);
    const now = this.#clock();
    const state = attemptState(previous, delivery.holder, now);
    if (state.kind === 'held')
      return this.#wait(
        delivery,
        view,
        `attempt ${previous?.attempts} of step "${step.name}" is running in another invocation`,
        state.until,
      );
    if (state.kind === 'free' && state.notBefore !== undefined)
      return this.#wait(
        delivery,
        view,
        `step "${step.name}" waits out its backoff`,
        state.notBefore,
      );
    const used = previous?.attempts ?? 0;
    const startedAt = previous?.startedAt ?? this.#iso(now);
    // Its holder died, or this delivery's own attempt never ended (it moved on from a
    // checkpoint that did not commit): either way it counts.
    const unfinished =
      state.kind === 'died'
        ? state.error
        : previous?.holder === delivery.holder
          ? `attempt ${used} did not end`
          : undefined;
    const lastError = unfinished ?? previous?.lastError;
    if (unfinished !== undefined && used >= definition.maxAttempts) {
      return this.#stall(
        delivery,
        view,
        `step "${step.name}" failed ${used} times; last: ${unfinished}`,
        this.#stepRecord(view, index, step.name, {
          stepState: 'stalled',
          attempts: used,
          lastError: unfinished,
          startedAt,
        }),
      );
    }
    // The attempt is recorded before it runs, so a timeout or crash in it still counts.
    const attempt = used + 1;
    const held = this.#stepRecord(view, index, step.name, {
      stepState: 'running',
      attempts: attempt,
      holder: delivery.holder,
      leaseUntil: this.#iso(delivery.leaseUntil),
      startedAt,
      ...(lastError === undefined ? {} : { lastError }),
    });
    const starts = view.job.jobState === JobState.pending;
    const begin = this.#tx();
    begin.addAction(held.planned);
    const startChanges = { jobState: JobState.running, updatedAt: this.#iso(now) };
    // A job stalled meanwhile (by another delivery, or a deploy's runner) runs no more.
    begin.addAction(
      starts ? this.store.planJob(view.job, startChanges) : this.store.planRunning(view.job),
    );
    if ((await this.#commit(begin)) === 'moved') return this.#reload(view);
    const running: JobView = {
      ...view,
      job: starts ? checkpointed(view.job, startChanges) : view.job,
      steps: new Map(view.steps).set(index, held.committed),
    };

    const tx = this.#tx();
    let value: unknown;
    try {
      value = await step.run({
        ...this.#args(running, definition),
        ctx: this.#context(tx, running.job, step.name, attempt),
      });
    } catch (error) {
      return this.#stepFailed(delivery, definition, running, index, step.name, attempt, error);
    }
    const stalled = (reason: string) =>
      this.#stall(
        delivery,
        running,
        reason,
        this.#stepRecord(running, index, step.name, {
          stepState: 'stalled',
          attempts: attempt,
          lastError: reason,
          startedAt,
        }),
      );
    const stored = storable(value);
    if ('problem' in stored)
      return stalled(
        `step "${step.name}" returned a value that cannot be stored: ${stored.problem}`,
      );
    const checkpoint = this.#stepRecord(running, index, step.name, {
      stepState: 'succeeded',
      attempts: attempt,
      result: stored.json,
      startedAt,
      finishedAt: this.#iso(),
    });
    const size = itemSize(checkpoint.committed);
    if (size > Limits.maxItemBytes) {
      return stalled(
        `the result of step "${step.name}" would make its record ${size} bytes, over DynamoDB's ${Limits.maxItemBytes}-byte item limit`,
      );
    }
    const unplanned = this.#planned(tx, [checkpoint.planned, this.store.planRunning(view.job)]);
    if (unplanned)
      return stalled(
        `step "${step.name}": its writes and checkpoint cannot be committed: ${unplanned}`,
      );
    let committed: 'committed' | 'moved';
    try {
      committed = await this.#commit(tx);
    } catch (error) {
      // Contention with another writer of an item the step writes is no failure of the
      // step: the attempt is given back and retried. Anything else (its own condition,
      // throttling, access denied) is a failed attempt.
      if (error instanceof TransactionConflictError) {
        const release = this.#tx();
        release.addAction(
          this.#stepRecord(running, index, step.name, {
            stepState: 'running',
            attempts: used,
            startedAt,
            ...(lastError === undefined ? {} : { lastError }),
          }).planned,
        );
        await this.#commit(release);
        throw error;
      }
      return this.#stepFailed(delivery, definition, running, index, step.name, attempt, error);
    }
    if (committed === 'moved') return this.#reload(running);
    this.metrics.addMetric(JobRunnerMetrics.stepsCompleted, MetricUnit.Count, 1);
    return { view: { ...running, steps: new Map(running.steps).set(index, checkpoint.committed) } };
  }

  async #stepFailed(
    delivery: Delivery,
    definition: AnyJob,
    view: JobView,
    index: number,
    step: string,
    attempt: number,
    error: unknown,
  ): Promise<Next> {
    const lastError = errorText(error);
    const startedAt = view.steps.get(index)?.startedAt;
    this.logger.warn('step failed', { jobId: view.job.jobId, step, attempt, error });
    if (attempt >= definition.maxAttempts) {
      return this.#stall(
        delivery,
        view,
        `step "${step}" failed ${attempt} times; last: ${lastError}`,
        this.#stepRecord(view, index, step, {
          stepState: 'stalled',
          attempts: attempt,
          lastError,
          ...(startedAt === undefined ? {} : { startedAt }),
        }),
      );
    }
    const delaySeconds = visibilityDelaySeconds(definition.backoff, attempt);
    const tx = this.#tx();
    tx.addAction(
      this.#stepRecord(view, index, step, {
        stepState: 'running',
        attempts: attempt,
        lastError,
        notBefore: this.#iso(this.#clock() + delaySeconds * 1000),
        ...(startedAt === undefined ? {} : { startedAt }),
      }).planned,
    );
    if ((await this.#commit(tx)) === 'moved') return this.#reload(view);
    return {
      outcome: {
        status: 'retry',
        kind: 'step',
        event: delivery.event,
        reason: `step "${step}" of job ${view.job.jobId} failed (attempt ${attempt} of ${definition.maxAttempts}): ${lastError}`,
        delaySeconds,
      },
    };
  }

  /** Ends the job where it is, with the reason; an operator resumes it. */
  async #stall(
    delivery: Delivery,
    view: JobView,
    reason: string,
    step?: { readonly planned: PlannedAction },
  ): Promise<Next> {
    const { job } = view;
    const tx = this.#tx();
    // An aggregation this delivery holds ends with the stall; another's stays its own.
    const own = job.claim === delivery.holder ? { claim: undefined, claimUntil: undefined } : {};
    tx.addAction(
      this.store.planJob(job, {
        jobState: JobState.stalled,
        reason,
        updatedAt: this.#iso(),
        ...own,
      }),
    );
    if (step) tx.addAction(step.planned);
    for (const planned of this.#notices(job, JobEvent.stalled, reason))
      tx.addAction(planned, planned.envelope);
    if ((await this.#commit(tx)) === 'moved') return this.#reload(view);
    this.metrics.addMetric(JobRunnerMetrics.stalledJobs, MetricUnit.Count, 1);
    this.logger.error('job stalled', { jobId: job.jobId, name: job.name, reason });
    return { outcome: handledOutcome(delivery.event) };
  }

  async #finish(delivery: Delivery, view: JobView): Promise<Next> {
    const { job } = view;
    const now = this.#iso();
    const tx = this.#tx();
    tx.addAction(
      this.store.planJob(job, { jobState: JobState.succeeded, finishedAt: now, updatedAt: now }),
    );
    for (const planned of this.#notices(job, JobEvent.succeeded))
      tx.addAction(planned, planned.envelope);
    if ((await this.#commit(tx)) === 'moved') return this.#reload(view);
    this.metrics.addMetric(JobRunnerMetrics.jobsSucceeded, MetricUnit.Count, 1);
    this.logger.info('job succeeded', { jobId: job.jobId, name: job.name });
    return { outcome: handledOutcome(delivery.event) };
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
      { now: new Date(this.#clock()) },
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
      { now: new Date(this.#clock()) },
    );
  }

  /** Starts a parallel step: its task records and one message per task, with the checkpoint. */
  async #fanOut(
    delivery: Delivery,
    view: JobView,
    index: number,
    step: ParallelStepDefinition,
  ): Promise<Next> {
    const { job } = view;
    const now = this.#iso();
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
        claimUntil: undefined,
        updatedAt: now,
      }),
    );
    for (const planned of this.#taskEvents(job, index, tasks, 1))
      tx.addAction(planned, planned.envelope);
    if ((await this.#commit(tx)) === 'moved') return this.#reload(view);
    return { outcome: handledOutcome(delivery.event) };
  }

  async #runTask(
    delivery: Delivery,
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
        delivery,
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
    // Finished before (a redelivery after a crash): never again; see whether to aggregate.
    if (task.taskState !== TaskState.pending)
      return this.#aggregate(delivery, view, stepIndex, step);

    const now = this.#clock();
    const state = attemptState(task, delivery.holder, now);
    const what = `task "${name}" of step "${step.name}"`;
    if (state.kind === 'held')
      return this.#wait(
        delivery,
        view,
        `attempt ${task.attempts} of ${what} is running in another invocation`,
        state.until,
      );
    if (state.kind === 'free' && state.notBefore !== undefined)
      return this.#wait(delivery, view, `${what} waits out its backoff`, state.notBefore);
    const startedAt = task.startedAt ?? this.#iso(now);
    const failed = (current: TaskRecord, attempts: number, error: unknown) =>
      this.#taskFailed(delivery, definition, view, stepIndex, step, current, attempts, error);
    const unfinished =
      state.kind === 'died'
        ? state.error
        : task.holder === delivery.holder
          ? `attempt ${task.attempts} did not end`
          : undefined;
    if (unfinished !== undefined && task.attempts >= step.maxTaskAttempts)
      return failed(task, task.attempts, new Error(unfinished));
    // The attempt is recorded before it runs, so a timeout or crash in it still counts.
    const attempt = task.attempts + 1;
    const holding = {
      attempts: attempt,
      holder: delivery.holder,
      leaseUntil: this.#iso(delivery.leaseUntil),
      startedAt,
      notBefore: undefined,
      ...(unfinished === undefined ? {} : { lastError: unfinished }),
    };
    const begin = this.#tx();
    begin.addAction(this.store.planTask(task, holding));
    if ((await this.#commit(begin)) === 'moved') {
      const latest = await this.#reload(view);
      return 'outcome' in latest
        ? latest
        : this.#runTask(delivery, definition, latest.view, message);
    }
    const held = { ...task, ...holding, version: task.version + 1 } as TaskRecord;

    const tx = this.#tx();
    let value: unknown;
    try {
      value = await run({
        ...this.#args(view, definition),
        ctx: this.#context(tx, job, step.name, attempt, name),
      });
    } catch (error) {
      return failed(held, attempt, error);
    }
    const stored = storable(value);
    if ('problem' in stored) {
      return failed(
        held,
        step.maxTaskAttempts,
        new Error(`returned a value that cannot be stored: ${stored.problem}`),
      );
    }
    const done = {
      taskState: TaskState.succeeded,
      attempts: attempt,
      result: stored.json,
      startedAt,
      finishedAt: this.#iso(),
      holder: undefined,
      leaseUntil: undefined,
    };
    // The whole record as the update leaves it: its other fields count against the limit too.
    const size = itemSize({ ...held, ...done, _eventbox: JobKeys.taskMarker });
    const unplanned =
      size > Limits.maxItemBytes
        ? `the result would make its record ${size} bytes, over DynamoDB's ${Limits.maxItemBytes}-byte item limit`
        : this.#planned(tx, [this.store.planTask(held, done)]);
    // A result over the item limit, or writes over the transaction's: no retry can commit
    // them, so the task fails for good and the aggregator decides.
    if (unplanned)
      return failed(
        held,
        step.maxTaskAttempts,
        new Error(`its result and writes cannot be committed: ${unplanned}`),
      );
    let committed: 'committed' | 'moved';
    try {
      committed = await this.#commit(tx);
    } catch (error) {
      // Contention on an item the task writes is no failure of the task: the attempt is
      // given back and retried. Anything else is a failed attempt.
      if (error instanceof TransactionConflictError) {
        const release = this.#tx();
        release.addAction(
          this.store.planTask(held, {
            attempts: task.attempts,
            holder: undefined,
            leaseUntil: undefined,
          }),
        );
        await this.#commit(release);
        throw error;
      }
      return failed(held, attempt, error);
    }
    // Another delivery of this task checkpointed first and ours wrote nothing; that one may
    // have died before aggregating, so see whether to.
    if (committed === 'committed')
      this.metrics.addMetric(JobRunnerMetrics.tasksCompleted, MetricUnit.Count, 1);
    return this.#aggregate(delivery, view, stepIndex, step);
  }

  async #taskFailed(
    delivery: Delivery,
    definition: AnyJob,
    view: JobView,
    stepIndex: number,
    step: ParallelStepDefinition,
    task: TaskRecord,
    attempt: number,
    error: unknown,
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
    const delaySeconds = visibilityDelaySeconds(definition.backoff, attempt);
    const tx = this.#tx();
    tx.addAction(
      this.store.planTask(task, {
        ...(final
          ? { taskState: TaskState.failed, finishedAt: this.#iso() }
          : { notBefore: this.#iso(this.#clock() + delaySeconds * 1000) }),
        attempts: attempt,
        lastError,
        holder: undefined,
        leaseUntil: undefined,
      }),
    );
    if ((await this.#commit(tx)) === 'moved') return { outcome: handledOutcome(delivery.event) };
    if (final) return this.#aggregate(delivery, view, stepIndex, step);
    return {
      outcome: {
        status: 'retry',
        kind: 'task',
        event: delivery.event,
        reason: `task "${task.task}" of step "${step.name}" of job ${view.job.jobId} failed (attempt ${attempt} of ${step.maxTaskAttempts}): ${lastError}`,
        delaySeconds,
      },
    };
  }

  /**
   * When every task of the step has ended: claims the aggregation (one invocation at a
   * time, until its deadline), runs the aggregator, and commits its decision with its
   * writes. A claim whose holder died is taken over when its lease runs out.
   */
  async #aggregate(
    delivery: Delivery,
    seen: JobView,
    index: number,
    step: ParallelStepDefinition,
  ): Promise<Next> {
    const latest = await this.store.all(seen.job.jobId);
    if (!latest) return { outcome: handledOutcome(delivery.event) };
    const tasks = latest.tasks.filter((t) => t.stepIndex === index);
    if (tasks.length === 0 || tasks.some((t) => t.taskState === TaskState.pending))
      return { outcome: handledOutcome(delivery.event) };
    let job: JobRecord | undefined = latest.job;
    if (job.jobState !== JobState.running || job.phaseStep !== index)
      return { outcome: handledOutcome(delivery.event) };
    const claimedUntil = (record: JobRecord) =>
      record.phase === 'aggregating' && record.claimUntil ? Date.parse(record.claimUntil) : 0;
    const holdsIt = (record: JobRecord | undefined) =>
      record?.jobState === JobState.running &&
      record.phaseStep === index &&
      record.phase === 'aggregating' &&
      record.claim === delivery.holder;
    const now = this.#clock();
    if (!holdsIt(job) && claimedUntil(job) <= now)
      job = await this.store.claimAggregation(job, delivery.holder, {
        now: this.#iso(now),
        until: this.#iso(delivery.leaseUntil),
      });
    if (!job) return { outcome: handledOutcome(delivery.event) };
    // Another invocation runs the aggregator: wait for its decision, or for its lease to run out.
    if (!holdsIt(job)) {
      return claimedUntil(job) > now && job.phaseStep === index
        ? this.#wait(
            delivery,
            { ...latest, job },
            `the aggregator of step "${step.name}" is running in another invocation`,
            claimedUntil(job),
          )
        : { outcome: handledOutcome(delivery.event) };
    }
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
        delivery,
        view,
        `the aggregator of step "${step.name}" threw: ${errorText(error)}`,
      );
    }
    const at = this.#iso();
    const record = view.steps.get(index);
    const decided = `the decision of the aggregator of step "${step.name}" cannot be committed with its writes`;
    const unclaimed = { claim: undefined, claimUntil: undefined, updatedAt: at };
    if (decision && typeof decision === 'object' && 'continue' in decision) {
      const stored = storable(decision.continue);
      if ('problem' in stored)
        return this.#stall(
          delivery,
          view,
          `the aggregator of step "${step.name}" returned a value that cannot be stored: ${stored.problem}`,
        );
      const checkpoint = this.#stepRecord(view, index, step.name, {
        stepState: 'succeeded',
        attempts: round,
        result: stored.json,
        startedAt: record?.startedAt ?? at,
        finishedAt: at,
      });
      const changes = { ...unclaimed, phase: undefined, phaseStep: undefined, round: undefined };
      const unplanned = this.#planned(tx, [checkpoint.planned, this.store.planJob(job, changes)]);
      if (unplanned) return this.#stall(delivery, view, `${decided}: ${unplanned}`);
      if ((await this.#commit(tx)) === 'moved') return { outcome: handledOutcome(delivery.event) };
      this.metrics.addMetric(JobRunnerMetrics.stepsCompleted, MetricUnit.Count, 1);
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
          ...unclaimed,
          jobState: JobState.failed,
          reason: String(decision.fail),
          finishedAt: at,
        }),
        ...this.#notices(job, JobEvent.failed, String(decision.fail)),
      ]);
      if (unplanned) return this.#stall(delivery, view, `${decided}: ${unplanned}`);
      if ((await this.#commit(tx)) === 'moved') return { outcome: handledOutcome(delivery.event) };
      this.metrics.addMetric(JobRunnerMetrics.jobsFailed, MetricUnit.Count, 1);
      this.logger.warn('job failed', { jobId: job.jobId, reason: decision.fail });
      return { outcome: handledOutcome(delivery.event) };
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
          delivery,
          view,
          `the aggregator of step "${step.name}" asked to retry ${JSON.stringify(decision.retry)}, but only failed tasks can be retried (${[...failed].join(', ') || 'none failed'})`,
        );
      }
      if (round >= step.maxRounds) {
        return this.#stall(
          delivery,
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
              holder: undefined,
              leaseUntil: undefined,
              notBefore: undefined,
            }),
          ),
        this.store.planJob(job, { ...unclaimed, phase: 'tasks', round: round + 1 }),
        ...this.#taskEvents(job, index, decision.retry, round + 1),
      ]);
      if (unplanned) return this.#stall(delivery, view, `${decided}: ${unplanned}`);
      if ((await this.#commit(tx)) === 'moved') return { outcome: handledOutcome(delivery.event) };
      this.metrics.addMetric(JobRunnerMetrics.taskRounds, MetricUnit.Count, 1);
      return { outcome: handledOutcome(delivery.event) };
    }
    return this.#stall(
      delivery,
      view,
      `the aggregator of step "${step.name}" returned ${JSON.stringify(decision)}; it must return { continue }, { retry: [...] } or { fail }`,
    );
  }
}

/** Succeeded, failed or stalled: no message moves the job on. */
function ended(job: JobRecord): boolean {
  return job.jobState !== JobState.pending && job.jobState !== JobState.running;
}
