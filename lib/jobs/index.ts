export {
  JobClient,
  type JobClientOptions,
  type JobSummary,
  type ListJobsOptions,
} from './client.js';
export {
  type AggregatorArgs,
  type AggregatorDecision,
  defineJob,
  JobDefaults,
  JobDefinition,
  type JobOptions,
  type ParallelSpec,
  type StepArgs,
  type StepContext,
  type StepFunction,
  type TaskOutcome,
} from './definition.js';
export {
  createExecutionDispatcher,
  type DispatchClients,
  dispatchExecution,
  type ExecutionRecord,
} from './dispatcher.js';
export { DynamoJobStore, type DynamoJobStoreOptions } from './dynamodb-store.js';
export { JobRunnerEnvironment } from './environment.js';
export {
  InvalidExecutionStartError,
  InvalidJobDefinitionError,
  InvalidJobInputError,
  JobAlreadyStartedError,
  JobNotFoundError,
  JobNotResumableError,
  JobResumeConflictError,
} from './errors.js';
export type { ExecutionStatus, JobEngines } from './execution-status.js';
export {
  EXECUTION_START,
  EXECUTION_TARGETS_VARIABLE,
  ExecutionEngine,
  ExecutionLimits,
  type ExecutionStart,
  type ExecutionStartPayload,
  startExecution,
} from './executions.js';
export { createJobRunner, jobRunnerOptionsFromEnvironment } from './handler.js';
export { JobEvent, type JobEventPayload, RUNNER_EVENT_TYPES } from './messages.js';
export { JobKeys, JobState, TaskState } from './records.js';
export { JobRunner, type JobRunnerOptions } from './runner.js';
export { type JobStart, type StartableJob, type StartJobOptions, startJob } from './start.js';
export type { JobStatus, StepStatus, TaskStatus } from './status.js';
export type { JobCheckpoint, JobStore, JobView, RecordChanges, StepWrite } from './store.js';
export { JOBS_TABLE_VARIABLE } from './table.js';
