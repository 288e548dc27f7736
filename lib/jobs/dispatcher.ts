import { createHash } from 'node:crypto';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { InboxOptions } from '../consumer/options.js';
import { type InboxLambdaHandler, withInbox } from '../consumer/with-inbox.js';
import { InvalidMessageError } from '../delivery/errors.js';
import {
  EXECUTION_START,
  ExecutionEngine,
  type ExecutionStartPayload,
  executionStartSchema,
} from './executions.js';

/** What the dispatcher records of an execution it started: what status reads. */
export interface ExecutionRecord {
  readonly pk: string;
  readonly sk: string;
  readonly engine: ExecutionEngine;
  readonly target: string;
  readonly name: string;
  /** Absent when the engine did not return one (status then finds the execution by name). */
  readonly executionArn?: string;
  /** Whether this start made the execution, or found it started with the same input. */
  readonly outcome: 'started' | 'existing';
  readonly eventId: string;
  readonly startedAt: string;
  /** SHA-256 of the input as canonical JSON: what a later start of the name is compared by. */
  readonly inputHash?: string;
}

/** The partition of the executions started under a name: one item per target. */
export const executionPartition = (name: string) => `EXECUTION#${name}`;

export const executionKey = (name: string, target: string) => ({
  pk: executionPartition(name),
  sk: target,
});

export interface DispatchClients {
  readonly stepFunctions: SFNClient;
  readonly lambda: LambdaClient;
}

/** JSON with sorted keys, so two inputs compare by value, not by key order. */
function canonical(json: string | undefined): string {
  const sort = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sort)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sort((value as Record<string, unknown>)[k])]),
          )
        : value;
  try {
    return JSON.stringify(sort(JSON.parse(json ?? 'null')));
  } catch {
    return json ?? '';
  }
}

/** The input's fingerprint, whatever its key order. */
export function inputHashOf(json: string): string {
  return createHash('sha256').update(canonical(json)).digest('hex');
}

/** Refusals no retry can fix: dead-lettered with the reason. */
const SFN_FOR_GOOD = new Set([
  'StateMachineDoesNotExist',
  'StateMachineDeleting',
  'InvalidArn',
  'InvalidName',
  'InvalidExecutionInput',
  'ValidationException',
]);
const LAMBDA_FOR_GOOD = new Set([
  'ResourceNotFoundException',
  'InvalidParameterValueException',
  'RequestTooLargeException',
  'InvalidRequestContentException',
]);

/**
 * Starts one execution with its name, exactly once however often it is asked:
 * - Step Functions (Standard): `StartExecution` with the name. A name that exists is
 *   compared by input with `DescribeExecution`: the same input is the execution already
 *   started (AWS answers such a start with success while it runs; the emulator refuses it,
 *   and this is right on both); a different input is refused for good.
 * - Durable functions: an asynchronous `Invoke` with `DurableExecutionName`: Lambda returns
 *   the existing execution for the same name and payload, and
 *   `DurableExecutionAlreadyStartedException` for a different payload, refused for good.
 * What no retry can fix (a missing or bad target, a bad name or input, another input under
 * the name) throws `InvalidMessageError`: the start is dead-lettered with the reason.
 * Throttling, service errors and access denied throw as they are: the start is retried
 * with backoff, and the consumer's alarms fire until the cause is fixed.
 */
export async function dispatchExecution(
  start: ExecutionStartPayload,
  clients: DispatchClients,
): Promise<{ readonly executionArn?: string; readonly outcome: 'started' | 'existing' }> {
  if (start.engine === ExecutionEngine.stepFunctions) {
    try {
      const { executionArn } = await clients.stepFunctions.send(
        new StartExecutionCommand({
          stateMachineArn: start.target,
          name: start.name,
          input: start.input,
        }),
      );
      return { ...(executionArn ? { executionArn } : {}), outcome: 'started' };
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'ExecutionAlreadyExists') {
        const executionArn = `${start.target.replace(':stateMachine:', ':execution:')}:${start.name}`;
        const existing = await clients.stepFunctions.send(
          new DescribeExecutionCommand({ executionArn }),
        );
        if (canonical(existing.input) === canonical(start.input))
          return { executionArn, outcome: 'existing' };
        throw new InvalidMessageError(
          `execution ${start.name} of ${start.target} was started with a different input`,
        );
      }
      if (SFN_FOR_GOOD.has(name))
        throw new InvalidMessageError(
          `Step Functions refused the start: ${name}: ${(error as Error).message}`,
        );
      throw error;
    }
  }
  try {
    const response = await clients.lambda.send(
      new InvokeCommand({
        FunctionName: start.target,
        InvocationType: 'Event',
        DurableExecutionName: start.name,
        Payload: Buffer.from(start.input),
      }),
    );
    const executionArn = response.DurableExecutionArn;
    return { ...(executionArn ? { executionArn } : {}), outcome: 'started' };
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'DurableExecutionAlreadyStartedException')
      throw new InvalidMessageError(
        `durable execution ${start.name} of ${start.target} was started with a different input`,
      );
    if (LAMBDA_FOR_GOOD.has(name))
      throw new InvalidMessageError(
        `Lambda refused the start: ${name}: ${(error as Error).message}`,
      );
    throw error;
  }
}

/**
 * The dispatcher's handler: an inbox consumer of `eventbox.execution.start` events that
 * starts each execution with its name and records it (for `JobClient.status`) in the same
 * transaction as its inbox record. A start whose name and target it has recorded starts
 * nothing (the same input) or is dead-lettered (another input), however late it comes.
 *
 * @example
 * export const handler = createExecutionDispatcher(inboxOptionsFromEnvironment());
 */
export function createExecutionDispatcher(
  options: InboxOptions & { readonly clients?: Partial<DispatchClients> },
): InboxLambdaHandler {
  const { clients = {}, ...inbox } = options;
  const resolved: DispatchClients = {
    stepFunctions: clients.stepFunctions ?? new SFNClient({}),
    lambda: clients.lambda ?? new LambdaClient({}),
  };
  return withInbox(
    async (event, ctx) => {
      // Validated against executionStartSchema before the handler runs.
      const start = event.payload as ExecutionStartPayload;
      const inputHash = inputHashOf(start.input);
      // Its own record first: "once by name" then outlives the inbox records and the
      // engines' windows (a Step Functions name is free again 90 days after the execution
      // closed, a durable one after its retention), for as long as the record is kept.
      const earlier = await ctx.get<ExecutionRecord>(executionKey(start.name, start.target));
      if (earlier) {
        if (earlier.inputHash !== undefined && earlier.inputHash !== inputHash)
          throw new InvalidMessageError(
            `execution ${start.name} of ${start.target} was started before (event ${earlier.eventId}) with a different input`,
          );
        return;
      }
      const started = await dispatchExecution(start, resolved);
      const record: ExecutionRecord = {
        ...executionKey(start.name, start.target),
        engine: start.engine,
        target: start.target,
        name: start.name,
        ...(started.executionArn ? { executionArn: started.executionArn } : {}),
        outcome: started.outcome,
        eventId: event.id,
        startedAt: new Date().toISOString(),
        inputHash,
      };
      ctx.tx.put({ ...record });
    },
    { ...inbox, schemas: { [EXECUTION_START]: executionStartSchema } },
  );
}
