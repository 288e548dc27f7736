import type { RetryKindInfo } from '../delivery/outcome.js';
import { JobRunnerMetrics } from './environment.js';

declare module '../delivery/outcome.js' {
  interface RetryKinds {
    /** A step's attempt failed: it comes back after its backoff. */
    step: true;
    /** A task's attempt failed. */
    task: true;
    /** A copy of a job message waits for an attempt held elsewhere, or a backoff. */
    waiting: true;
  }
}

/** The runner's kinds of retry, as settling counts and names them. */
export const JobRetryKinds = {
  step: { metric: JobRunnerMetrics.stepRetries, label: 'Step failed' },
  task: { metric: JobRunnerMetrics.taskRetries, label: 'Task failed' },
  waiting: { metric: JobRunnerMetrics.jobMessageWaits, label: 'Waiting' },
} as const satisfies Record<string, RetryKindInfo>;
