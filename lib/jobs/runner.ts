import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import { InvalidMessageError } from '../delivery/errors.js';
import { envelopeOf, type InboxMessage } from '../delivery/messages.js';
import type { Outcome } from '../delivery/outcome.js';
import type { SettleContext } from '../delivery/settle.js';
import type { EventEnvelope } from '../envelope/envelope.js';
import { visibilityDelaySeconds } from '../shared/backoff.js';
import { type DynamoDbClientOptions, documentClient } from '../shared/dynamodb-client.js';
import { METRICS_NAMESPACE } from '../shared/metrics-namespace.js';
import { aggregate } from './aggregation.js';
import type { Delivery } from './attempts.js';
import type { JobDefinition } from './definition.js';
import { DynamoJobStore } from './dynamodb-store.js';
import { JobEvent, type JobEventPayload, RUNNER_EVENT_TYPES } from './messages.js';
import { fanOut, runTask } from './parallel-step.js';
import { planMismatch } from './plan.js';
import { errorText } from './records.js';
import { JobRetryKinds } from './retry-kinds.js';
import {
  type AnyJob,
  type DefinedRun,
  finish,
  handledOutcome,
  type Next,
  type Run,
  type RunnerParts,
  stall,
} from './run.js';
import { runStep } from './sequential-step.js';
import { currentStep, type JobStore, type JobView } from './store.js';
import { ended } from './transitions.js';

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
  /**
   * Where the job records live. @default the DynamoDB table `tableName` (a `DynamoJobStore`);
   * `MemoryJobStore` of `eventbox/testing` runs jobs in a unit test. A store given here
   * has its own step table and source: `stepTableName`, `source` and the client options
   * are for the default store.
   */
  readonly store?: JobStore;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
} & DynamoDbClientOptions &
  (
    | { readonly sqsClient?: SQSClient; readonly sqsClientConfig?: never }
    | { readonly sqsClientConfig?: SQSClientConfig; readonly sqsClient?: never }
  );

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
 *
 * The parts: `sequential-step.ts`, `parallel-step.ts` and `aggregation.ts` move a job on,
 * `decisions.ts` and `transitions.ts` are the pure rules they share with `JobClient`, and
 * `store.ts` the seam to where the records live.
 */
export class JobRunner implements SettleContext {
  readonly consumerName: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly options: JobRunnerOptions;
  readonly retryKinds = JobRetryKinds;
  readonly store: JobStore;
  readonly #jobs: ReadonlyMap<string, AnyJob>;
  readonly #parts: RunnerParts;

  constructor(options: JobRunnerOptions) {
    this.options = options;
    const clock = options.clock ?? Date.now;
    this.consumerName = options.runnerName ?? 'job-runner';
    this.logger = options.logger ?? new Logger({ serviceName: this.consumerName });
    this.metrics =
      options.metrics ??
      new Metrics({ namespace: METRICS_NAMESPACE, serviceName: this.consumerName });
    this.store =
      options.store ??
      new DynamoJobStore({
        client: documentClient(options),
        tableName: options.tableName,
        ...(options.stepTableName ? { stepTableName: options.stepTableName } : {}),
        ...(options.source ? { source: options.source } : {}),
        clock,
      });
    this.#jobs = new Map(options.jobs.map((job) => [job.name, job]));
    this.#parts = { store: this.store, clock, logger: this.logger, metrics: this.metrics };
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
    if (payload.jobsTable !== this.store.tableName) {
      return {
        status: 'dead-letter',
        event,
        reason: `a message for jobs table ${payload.jobsTable}; this runner runs ${this.store.tableName}`,
      };
    }
    const { attemptLeaseSeconds = 900 } = this.options;
    const delivery: Delivery = {
      event,
      holder: randomUUID(),
      leaseUntil: invocation.deadline ?? this.#parts.clock() + attemptLeaseSeconds * 1000,
      last: this.isLastDelivery(message),
    };
    const run: Run = { ...this.#parts, delivery };
    // The queue will not bring this message back: a new one takes the job on first, so
    // whatever happens to this delivery (a retry, an error, a timeout) the job goes on.
    if (delivery.last && (await this.#handOff(run))) {
      const goOn: Run = { ...run, delivery: { ...delivery, last: false } };
      const outcome = await this.#run(goOn, message, payload.jobId);
      return outcome.status === 'retry' || outcome.status === 'failed'
        ? handledOutcome(run)
        : outcome;
    }
    return this.#run(run, message, payload.jobId);
  }

  /** Whether the queue will not bring this message back (its `maxReceiveCount`-th receive). */
  isLastDelivery(message: InboxMessage): boolean {
    const { maxReceiveCount } = this.options;
    return maxReceiveCount !== undefined && message.receiveCount >= maxReceiveCount;
  }

  async #run(run: Run, message: InboxMessage, jobId: string): Promise<Outcome> {
    const { event } = run.delivery;
    try {
      const view = await this.store.read(jobId);
      if (!view) return { status: 'dead-letter', event, reason: `job ${jobId} does not exist` };
      const definition = this.#jobs.get(view.job.name);
      if (!definition) {
        const reason = `this runner has no definition of job "${view.job.name}"`;
        return end(run, await stall(run, view, reason));
      }
      const mismatch = planMismatch(view.job.plan, definition);
      if (mismatch)
        return ended(view.job) ? handledOutcome(run) : end(run, await stall(run, view, mismatch));
      const defined: DefinedRun = { ...run, definition };
      const next =
        event.type === JobEvent.task
          ? await runTask(defined, view, event.payload as JobEventPayload)
          : { view };
      return 'outcome' in next ? next.outcome : await advance(defined, next.view);
    } catch (error) {
      return this.#failed(run, message, jobId, error);
    }
  }

  /**
   * An error nothing caught (the table unreachable, access denied): the message comes
   * back; on its last delivery, when no new message could take the job on, the job stalls
   * with the error rather than the message leaving for the dead-letter queue while its
   * job stays "running".
   */
  async #failed(run: Run, message: InboxMessage, jobId: string, error: unknown): Promise<Outcome> {
    const failed: Outcome = { status: 'failed', event: run.delivery.event, error };
    if (!run.delivery.last) return failed;
    try {
      const view = await this.store.read(jobId);
      if (!view || ended(view.job)) return failed;
      const reason = `its message was received ${message.receiveCount} times, the queue's maxReceiveCount, and failed: ${errorText(error)}`;
      return end(run, await stall(run, view, reason));
    } catch {
      return failed;
    }
  }

  /**
   * Commits the message that takes the job on when the queue will not bring this one back:
   * the same message anew, once per message however often it is delivered. Whether it
   * exists (this commit made it, or another copy did).
   */
  async #handOff(run: Run): Promise<boolean> {
    const { event } = run.delivery;
    const payload = event.payload as JobEventPayload;
    try {
      await this.store.publishOnce([{ type: event.type, payload }], {
        type: 'JobHandOff',
        id: `${payload.jobId}/${event.id}`,
      });
    } catch {
      return false;
    }
    this.logger.info('job handed to a new message: this one is on its last delivery', {
      jobId: payload.jobId,
      eventId: event.id,
    });
    return true;
  }
}

function end(run: Run, next: Next): Outcome {
  return 'outcome' in next ? next.outcome : handledOutcome(run);
}

/** Moves the job on from its checkpoint, step after step, until a step waits or it ends. */
async function advance(run: DefinedRun, start: JobView): Promise<Outcome> {
  let view = start;
  for (;;) {
    const { job } = view;
    if (ended(job)) return handledOutcome(run);
    const index = currentStep(view);
    const step = run.definition.steps[index];
    let next: Next;
    if (!step) next = await finish(run, view);
    else if (step.kind === 'step') next = await runStep(run, view, index, step);
    else if (job.phase === undefined || job.phaseStep !== index)
      next = await fanOut(run, view, index, step);
    else next = await aggregate(run, view, index, step);
    if ('outcome' in next) return next.outcome;
    view = next.view;
  }
}
