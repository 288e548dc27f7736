import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { EventEnvelope } from '../envelope/envelope.js';
import { describeIssues } from '../shared/zod-problems.js';
import type { Transaction } from '../transaction/transaction.js';
import { InvalidExecutionStartError } from './errors.js';

/**
 * Starting a Step Functions state machine or a Lambda durable function exactly once when a
 * transaction commits: the start is an event of the transaction's outbox, and a dispatcher
 * (an inbox consumer) makes it with the execution's name, which both engines deduplicate.
 */
export const ExecutionEngine = {
  stepFunctions: 'step-functions',
  durableFunction: 'durable-function',
} as const;
export type ExecutionEngine = (typeof ExecutionEngine)[keyof typeof ExecutionEngine];

/** The start event's type, which the dispatcher's rule selects. */
export const EXECUTION_START = 'eventbox.execution.start';

/** The engines' limits, checked before anything is added to the transaction. */
export const ExecutionLimits = {
  /** Step Functions: input of StartExecution. */
  stepFunctionsInputBytes: 256 * 1024,
  /** Lambda takes 1 MB asynchronously, but the start travels as an event: EventBridge's 256 KB. */
  durableInputBytes: 256 * 1024,
  /** Step Functions execution names: 1 to 80 letters, digits, "-" and "_". */
  stepFunctionsName: /^[A-Za-z0-9_-]{1,80}$/,
  /** Durable execution names: 1 to 64 letters, digits, "-" and "_". */
  durableName: /^[A-Za-z0-9_-]{1,64}$/,
  stateMachineArn: /^arn:aws[a-zA-Z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/,
  /** Qualified: a durable execution is invoked on a version or alias, never the bare function. */
  functionArn:
    /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}:(\$LATEST|[A-Za-z0-9_-]+)$/,
} as const;

/**
 * The variable `JobRunner.grantStart` sets to the targets its dispatcher starts (a JSON
 * list of ARNs): a start for any other would commit and then match no rule, so it is
 * refused before commit.
 */
export const EXECUTION_TARGETS_VARIABLE = 'EVENTBOX_EXECUTION_TARGETS';

/** The targets the environment says a dispatcher starts, or undefined when it does not say. */
function dispatchedTargets(env: NodeJS.ProcessEnv): readonly string[] | undefined {
  const raw = env[EXECUTION_TARGETS_VARIABLE];
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

export interface ExecutionStart {
  readonly engine: ExecutionEngine;
  /** A state machine ARN (Standard type), or a durable function's qualified ARN. */
  readonly target: string;
  /** The execution's name, the job id: a second start of the same name starts nothing. */
  readonly name: string;
  /** The execution's input, as JSON. */
  readonly input: unknown;
}

export const executionStartSchema = z.strictObject({
  engine: z.enum([ExecutionEngine.stepFunctions, ExecutionEngine.durableFunction]),
  target: z.string().check(z.minLength(1)),
  name: z.string().check(z.minLength(1)),
  /** The input as JSON text, so that the dispatcher compares exactly what was started. */
  input: z.string(),
});
export type ExecutionStartPayload = z.infer<typeof executionStartSchema>;

/** The problems of a start the engine would refuse, known before commit. */
function problems(start: ExecutionStart, input: string | undefined): string[] {
  const found: string[] = [];
  const sfn = start.engine === ExecutionEngine.stepFunctions;
  if (!(sfn ? ExecutionLimits.stateMachineArn : ExecutionLimits.functionArn).test(start.target))
    found.push(
      `target: not a ${sfn ? 'state machine ARN' : "durable function's qualified ARN (with a version or alias)"}: "${start.target}"`,
    );
  const targets = dispatchedTargets(process.env);
  if (targets && !targets.includes(start.target))
    found.push(
      `target: "${start.target}" is not among the targets the JobRunner's dispatcher starts (${targets.join(', ')}); list it in stateMachines or durableFunctions, or nothing would start it`,
    );
  if (!(sfn ? ExecutionLimits.stepFunctionsName : ExecutionLimits.durableName).test(start.name))
    found.push(
      `name: must be 1 to ${sfn ? 80 : 64} letters, digits, "-" or "_"; got "${start.name}"`,
    );
  if (input === undefined) found.push('input: not representable in JSON');
  else {
    const limit = sfn ? ExecutionLimits.stepFunctionsInputBytes : ExecutionLimits.durableInputBytes;
    const bytes = Buffer.byteLength(input, 'utf8');
    if (bytes > limit) found.push(`input: ${bytes} bytes; the engine takes at most ${limit}`);
  }
  return found;
}

/**
 * Starts a Step Functions execution or a Lambda durable execution if, and only if, the
 * transaction commits: the start is published from the transaction's outbox, and the
 * dispatcher (`createExecutionDispatcher`) starts it with `name`, so duplicate deliveries
 * start it once. A second start of the same name with the same input is a no-op; with a
 * different input it is dead-lettered with that reason.
 * @throws InvalidExecutionStartError before anything is added: a bad ARN or name, an input
 * over the engine's limit or not JSON.
 * @example
 * startExecution(tx, { engine: 'step-functions', target: stateMachineArn, name: `fraud-${orderId}`, input: { orderId } });
 */
export function startExecution(
  tx: Transaction,
  start: ExecutionStart,
): EventEnvelope<ExecutionStartPayload> {
  const parsed = z.safeParse(
    z.strictObject({
      engine: executionStartSchema.shape.engine,
      target: z.string(),
      name: z.string(),
      input: z.unknown(),
    }),
    start,
  );
  if (!parsed.success) throw new InvalidExecutionStartError(describeIssues(parsed.error));
  let input: string | undefined;
  try {
    input = JSON.stringify(start.input ?? null);
  } catch {
    input = undefined;
  }
  const found = problems(start, input);
  if (found.length > 0) throw new InvalidExecutionStartError(found);
  return tx.publish({
    type: EXECUTION_START,
    // Each start its own aggregate: two transactions may start one name (the dispatcher decides).
    aggregate: { type: 'ExecutionStart', id: `${start.name}/${randomUUID()}`, version: 1 },
    payload: {
      engine: start.engine,
      target: start.target,
      name: start.name,
      input: input ?? 'null',
    },
  });
}
