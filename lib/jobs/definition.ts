import type { Logger } from '@aws-lambda-powertools/logger';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Item, Key } from '../transaction/actions.js';
import type { Transaction } from '../transaction/transaction.js';
import { InvalidJobDefinitionError } from './errors.js';

/** What a step's or task's function gets besides the input and earlier results. */
export interface StepContext {
  /**
   * The unit of work: its writes (and events it publishes) commit in ONE transaction with
   * the step's checkpoint, so they happen exactly once, however often the step runs.
   */
  readonly tx: Transaction;
  readonly jobId: string;
  readonly step: string;
  /** The task's name, in a parallel step. */
  readonly task?: string;
  /**
   * Stable across every attempt of this step (or task): `<jobId>:<step>[:<task>]`. Pass it
   * to effects outside DynamoDB (a payment API, say), which run at least once.
   */
  readonly idempotencyKey: string;
  /** 1 on the first attempt. */
  readonly attempt: number;
  readonly logger: Logger;
  /** A consistent read of one item of the step table (or `tableName`). */
  get<TItem extends Item = Item>(
    key: Key,
    options?: { readonly tableName?: string },
  ): Promise<TItem | undefined>;
}

export interface StepArgs<TInput, TResults> {
  readonly input: TInput;
  /** What earlier steps returned, by step name. */
  readonly results: TResults;
  readonly ctx: StepContext;
}

export type StepFunction<TInput, TResults, TOutput> = (
  args: StepArgs<TInput, TResults>,
) => Promise<TOutput> | TOutput;

/** How a task of a parallel step ended, as its aggregator sees it. */
export interface TaskOutcome<TOutput = unknown> {
  readonly state: 'succeeded' | 'failed';
  readonly result?: TOutput;
  /** The last error, for a failed task. */
  readonly error?: string;
  readonly attempts: number;
}

/** What an aggregator decides once every task of its step has succeeded or failed for good. */
export type AggregatorDecision<TOutput> =
  /** Move on; the value is the step's result. */
  | { readonly continue: TOutput }
  /** Run these failed tasks again (alone: finished tasks never run again). */
  | { readonly retry: readonly string[] }
  /** End the job as failed, with the reason. */
  | { readonly fail: string };

export interface AggregatorArgs<TInput, TResults, TTasks> extends StepArgs<TInput, TResults> {
  readonly tasks: { readonly [K in keyof TTasks]: TaskOutcome<TaskOutput<TTasks[K]>> };
  /** 1, then 2 after a first `retry`, ... */
  readonly round: number;
}

type TaskOutput<T> = T extends (...args: never[]) => infer R ? Awaited<R> : never;

export interface ParallelSpec<TInput, TResults, TTasks, TOutput> {
  /** Named tasks, each run in its own invocation and checkpointed on its own. */
  readonly tasks: TTasks;
  /** Runs once, when every task has succeeded or failed for good, and decides. */
  readonly aggregate: (
    args: AggregatorArgs<TInput, TResults, TTasks>,
  ) => Promise<AggregatorDecision<TOutput>> | AggregatorDecision<TOutput>;
  /** Attempts of each task before it counts as failed, 1 to 100. @default 3 */
  readonly maxTaskAttempts?: number;
  /** Rounds of `retry` before the job stalls at this step, 1 to 20. @default 3 */
  readonly maxRounds?: number;
}

export interface SequentialStepDefinition {
  readonly kind: 'step';
  readonly name: string;
  readonly run: StepFunction<unknown, Record<string, unknown>, unknown>;
}

export interface ParallelStepDefinition {
  readonly kind: 'parallel';
  readonly name: string;
  readonly tasks: Readonly<Record<string, StepFunction<unknown, Record<string, unknown>, unknown>>>;
  readonly aggregate: (
    args: StepArgs<unknown, Record<string, unknown>> & {
      readonly tasks: Readonly<Record<string, TaskOutcome>>;
      readonly round: number;
    },
  ) => Promise<AggregatorDecision<unknown>> | AggregatorDecision<unknown>;
  readonly maxTaskAttempts: number;
  readonly maxRounds: number;
}

export type StepDefinition = SequentialStepDefinition | ParallelStepDefinition;

export interface JobOptions<TSchema extends StandardSchemaV1> {
  /** Validates the input when the job is started; the steps get its output. */
  readonly input: TSchema;
  /** Attempts of a step before the job stalls there, 1 to 100. @default 5 */
  readonly maxAttempts?: number;
  /** Delay before a step's next attempt: min(cap, base × 2^(attempt−1)) seconds, half jittered. @default { baseSeconds: 1, capSeconds: 300 } */
  readonly backoff?: { readonly baseSeconds?: number; readonly capSeconds?: number };
}

export const JobDefaults = {
  maxAttempts: 5,
  backoff: { baseSeconds: 1, capSeconds: 300 },
  maxTaskAttempts: 3,
  maxRounds: 3,
  /** Tasks, their events and the checkpoint share one 100-action transaction. */
  maxTasks: 40,
} as const;

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

function checkName(what: string, name: string): void {
  if (!NAME.test(name)) {
    throw new InvalidJobDefinitionError(
      `${what} must be 1 to 64 letters, digits, ".", "_" or "-"; got "${name}"`,
    );
  }
}

function checkRange(what: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new InvalidJobDefinitionError(
      `${what} must be an integer from ${min} to ${max}; got ${value}`,
    );
}

/** How long SQS keeps a message from its first send, at most (and as the constructs set it). */
const SQS_RETENTION_SECONDS = 14 * 86_400;

/**
 * A job: a name, an input schema and ordered steps. Build it with `defineJob(...)` then
 * `.step(...)` and `.parallel(...)`; each returns a new definition whose `results` know
 * the earlier steps' result types.
 */
export class JobDefinition<TInput = unknown, TResults = Record<never, never>> {
  readonly name: string;
  readonly input: StandardSchemaV1<unknown, TInput>;
  readonly steps: readonly StepDefinition[];
  readonly maxAttempts: number;
  readonly backoff: { readonly baseSeconds: number; readonly capSeconds: number };

  /** @internal use defineJob */
  constructor(
    name: string,
    options: JobOptions<StandardSchemaV1<unknown, TInput>>,
    steps: readonly StepDefinition[] = [],
  ) {
    checkName('A job name', name);
    checkRange(`Job "${name}" maxAttempts`, options.maxAttempts, 1, 100);
    checkRange(`Job "${name}" backoff.baseSeconds`, options.backoff?.baseSeconds, 0, 43_200);
    checkRange(`Job "${name}" backoff.capSeconds`, options.backoff?.capSeconds, 0, 43_200);
    if (typeof options.input?.['~standard']?.validate !== 'function')
      throw new InvalidJobDefinitionError(
        `Job "${name}" needs an input schema (any Standard Schema)`,
      );
    this.name = name;
    this.input = options.input;
    this.steps = steps;
    this.maxAttempts = options.maxAttempts ?? JobDefaults.maxAttempts;
    this.backoff = {
      baseSeconds: options.backoff?.baseSeconds ?? JobDefaults.backoff.baseSeconds,
      capSeconds: options.backoff?.capSeconds ?? JobDefaults.backoff.capSeconds,
    };
  }

  #with<TNext>(step: StepDefinition): JobDefinition<TInput, TNext> {
    checkName(`A step name of job "${this.name}"`, step.name);
    if (this.steps.some((s) => s.name === step.name))
      throw new InvalidJobDefinitionError(`Job "${this.name}" has two steps named "${step.name}"`);
    this.#checkRetention([...this.steps, step]);
    return new JobDefinition<TInput, TNext>(
      this.name,
      { input: this.input, maxAttempts: this.maxAttempts, backoff: this.backoff },
      [...this.steps, step],
    );
  }

  /**
   * Refuses retries that could outlast SQS's retention: one message carries a job's steps
   * one after another (and a task's attempts), so their backoff added up must end within
   * the 14 days SQS keeps it from its first send, or it expires with the job "running".
   */
  #checkRetention(steps: readonly StepDefinition[]): void {
    const waits = (attempts: number) => {
      let total = 0;
      for (let a = 1; a < attempts; a++)
        total += Math.min(43_200, this.backoff.capSeconds, this.backoff.baseSeconds * 2 ** (a - 1));
      return total;
    };
    const perStep = steps.map((s) =>
      s.kind === 'parallel'
        ? waits(Math.max(this.maxAttempts, s.maxTaskAttempts))
        : waits(this.maxAttempts),
    );
    const worst = perStep.reduce((a, b) => a + b, 0);
    if (worst > SQS_RETENTION_SECONDS) {
      throw new InvalidJobDefinitionError(
        `Job "${this.name}": its steps' retries can wait up to ${Math.ceil(worst / 3600)} hours in all (maxAttempts ${this.maxAttempts}, backoff capSeconds ${this.backoff.capSeconds}, ${steps.length} steps), past the ${SQS_RETENTION_SECONDS / 86_400} days SQS keeps a message; lower maxAttempts, maxTaskAttempts or backoff.capSeconds`,
      );
    }
  }

  /** A step: one function, retried until it succeeds or the job stalls here. */
  step<TName extends string, TOutput>(
    name: TName,
    run: StepFunction<TInput, TResults, TOutput>,
  ): JobDefinition<TInput, TResults & { readonly [K in TName]: Awaited<TOutput> }> {
    return this.#with({ kind: 'step', name, run: run as SequentialStepDefinition['run'] });
  }

  /**
   * A step that fans out into named tasks run in parallel, each in its own invocation and
   * checkpointed on its own, and an aggregator that decides once they have all ended.
   */
  parallel<
    TName extends string,
    TTasks extends Readonly<Record<string, StepFunction<TInput, TResults, unknown>>>,
    TOutput,
  >(
    name: TName,
    spec: ParallelSpec<TInput, TResults, TTasks, TOutput>,
    // A conditional `{ retry } | { continue }` infers `continue?: undefined` on one side.
  ): JobDefinition<
    TInput,
    TResults & { readonly [K in TName]: Awaited<Exclude<TOutput, undefined>> }
  > {
    const taskNames = Object.keys(spec.tasks);
    if (taskNames.length === 0 || taskNames.length > JobDefaults.maxTasks) {
      throw new InvalidJobDefinitionError(
        `Step "${name}" of job "${this.name}" needs 1 to ${JobDefaults.maxTasks} tasks; got ${taskNames.length}`,
      );
    }
    for (const task of taskNames) checkName(`A task name of step "${name}"`, task);
    checkRange(`Step "${name}" maxTaskAttempts`, spec.maxTaskAttempts, 1, 100);
    checkRange(`Step "${name}" maxRounds`, spec.maxRounds, 1, 20);
    return this.#with({
      kind: 'parallel',
      name,
      tasks: spec.tasks as unknown as ParallelStepDefinition['tasks'],
      aggregate: spec.aggregate as unknown as ParallelStepDefinition['aggregate'],
      maxTaskAttempts: spec.maxTaskAttempts ?? JobDefaults.maxTaskAttempts,
      maxRounds: spec.maxRounds ?? JobDefaults.maxRounds,
    });
  }
}

/**
 * Defines a job. Steps run in order, each retried with capped, jittered backoff until it
 * succeeds or the job stalls at it with the reason.
 *
 * @example
 * const fulfil = defineJob('fulfil-order', { input: z.object({ orderId: z.string() }) })
 *   .step('reserve', async ({ input, ctx }) => {
 *     ctx.tx.update({ pk: `ORDER#${input.orderId}`, sk: 'ORDER' }, { reserved: true });
 *     return { reservedAt: new Date().toISOString() };
 *   })
 *   .step('ship', async ({ results }) => ({ after: results.reserve.reservedAt }));
 */
export function defineJob<TSchema extends StandardSchemaV1>(
  name: string,
  options: JobOptions<TSchema>,
): JobDefinition<StandardSchemaV1.InferOutput<TSchema>> {
  return new JobDefinition(
    name,
    options as unknown as JobOptions<
      StandardSchemaV1<unknown, StandardSchemaV1.InferOutput<TSchema>>
    >,
  );
}
