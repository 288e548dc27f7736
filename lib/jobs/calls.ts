import { ConsumerCalls } from '../consumer/calls.js';
import { ItemActions } from '../shared/aws-calls.js';

/**
 * The IAM actions the job runner calls, per resource: the JobRunner construct grants these
 * and no more (a test reads the runner's code for the calls it makes). The runner reads its
 * inbox record per message, never a batch of them.
 */
export const JobRunnerCalls = {
  ...ConsumerCalls,
  /** Job, task and step records and checkpoints; a job's tasks are one Query of its partition. */
  table: [...ItemActions.read, 'dynamodb:Query', ...ItemActions.write],
  /** The tables steps write to through `ctx.tx`. */
  stepTable: [...ItemActions.read, ...ItemActions.write],
} as const;

/** The IAM actions the execution dispatcher calls, beyond an inbox consumer's. */
export const DispatcherCalls = {
  ...ConsumerCalls,
  /** Starts each execution by name, and compares a refused start's input with the running one's. */
  stateMachine: ['states:StartExecution'],
  execution: ['states:DescribeExecution'],
  durableFunction: ['lambda:InvokeFunction'],
} as const;
