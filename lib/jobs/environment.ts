import { ConsumerEnvironment } from '../consumer/environment.js';
import { EXECUTION_TARGETS_VARIABLE } from './executions.js';
import { JOBS_TABLE_VARIABLE } from './table.js';

/**
 * Environment variables the JobRunner construct sets, and the runner and job starters
 * read: a runner is an inbox consumer, so it has the consumer's variables, and these.
 */
export const JobRunnerEnvironment = {
  ...ConsumerEnvironment,
  /** The table steps write to through `ctx.tx` by default (`stepTable`). */
  stepTableName: 'EVENTBOX_STEP_TABLE_NAME',
  /** Set by `JobRunner.grantStart` on a function that starts jobs; `startJob` reads it. */
  jobsTable: JOBS_TABLE_VARIABLE,
  /**
   * The function's timeout, in seconds: how long an attempt is held when a handler does not
   * pass the invocation's context (its deadline).
   */
  attemptLeaseSeconds: 'EVENTBOX_ATTEMPT_LEASE_SECONDS',
  /** Set by `JobRunner.grantStart` too: the targets the dispatcher starts; `startExecution` reads it. */
  executionTargets: EXECUTION_TARGETS_VARIABLE,
} as const;

/**
 * The metrics a job runner publishes besides its consumer's (namespace `Eventbox`,
 * dimension `service` = the runner's name), which the JobRunner construct's alarms and
 * dashboard read.
 */
export const JobRunnerMetrics = {
  stepsCompleted: 'StepsCompleted',
  tasksCompleted: 'TasksCompleted',
  taskRounds: 'TaskRounds',
  stalledJobs: 'StalledJobs',
  jobsSucceeded: 'JobsSucceeded',
  jobsFailed: 'JobsFailed',
  stepRetries: 'StepRetries',
  taskRetries: 'TaskRetries',
  jobMessageWaits: 'JobMessageWaits',
} as const;
