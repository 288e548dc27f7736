import type { ExecutionStatus } from './execution-status.js';
import { JobState } from './records.js';
import { currentStep, type JobView } from './store.js';

/** A task of a parallel step, as status reports it. */
export interface TaskStatus {
  readonly name: string;
  readonly state: 'pending' | 'succeeded' | 'failed';
  readonly attempts: number;
  readonly round: number;
  readonly lastError?: string;
  /** An attempt is running: its invocation holds it until then (then it counts as died). */
  readonly heldUntil?: string;
  /** After a failure, the next attempt waits until then. */
  readonly retryAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly result?: unknown;
}

/** A step, as status reports it. */
export interface StepStatus {
  readonly name: string;
  readonly kind: 'step' | 'parallel';
  readonly state: 'pending' | 'running' | 'succeeded' | 'stalled' | 'failed';
  readonly attempts: number;
  readonly lastError?: string;
  /** An attempt is running: its invocation holds it until then (then it counts as died). */
  readonly heldUntil?: string;
  /** After a failure, the next attempt waits until then. */
  readonly retryAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly result?: unknown;
  readonly tasks?: readonly TaskStatus[];
}

/** A job's status: readable from the moment the transaction that started it committed. */
export interface JobStatus {
  readonly jobId: string;
  readonly name: string;
  readonly state: JobState;
  /** The step the job is at (none once it succeeded). */
  readonly currentStep?: { readonly index: number; readonly name: string };
  /** Why it stalled or failed. */
  readonly reason?: string;
  readonly input: unknown;
  readonly steps: readonly StepStatus[];
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  /** For a Step Functions or durable execution started with `startExecution`: its engine's report. */
  readonly execution?: ExecutionStatus;
}

function parsed(json: string | undefined): unknown {
  return json === undefined ? undefined : (JSON.parse(json) as unknown);
}

/** An attempt's lease and backoff, as status reports them. */
function inFlight(
  record: { holder?: string; leaseUntil?: string; notBefore?: string } | undefined,
) {
  return {
    ...(record?.holder && record.leaseUntil ? { heldUntil: record.leaseUntil } : {}),
    ...(record?.notBefore ? { retryAt: record.notBefore } : {}),
  };
}

/** Builds the status from one read of the job's partition. */
export function jobStatus(view: JobView): JobStatus {
  const { job } = view;
  const current = currentStep(view);
  const steps = (job.plan ?? []).map((planned, index): StepStatus => {
    const record = view.steps.get(index);
    const state: StepStatus['state'] =
      record?.stepState === 'succeeded'
        ? 'succeeded'
        : index === current && job.jobState === JobState.stalled
          ? 'stalled'
          : index === current && job.jobState === JobState.failed
            ? 'failed'
            : record
              ? 'running'
              : 'pending';
    const own = view.tasks.filter((t) => t.stepIndex === index);
    return {
      name: planned.name,
      kind: planned.kind,
      state,
      attempts: record?.attempts ?? 0,
      ...(record?.lastError ? { lastError: record.lastError } : {}),
      ...inFlight(record),
      ...(record?.startedAt ? { startedAt: record.startedAt } : {}),
      ...(record?.finishedAt ? { finishedAt: record.finishedAt } : {}),
      ...(record?.result === undefined ? {} : { result: parsed(record.result) }),
      ...(planned.kind === 'parallel'
        ? {
            tasks: (planned.tasks ?? []).map((name): TaskStatus => {
              const task = own.find((t) => t.task === name);
              return {
                name,
                state: task?.taskState ?? 'pending',
                attempts: task?.attempts ?? 0,
                round: task?.round ?? 0,
                ...(task?.lastError ? { lastError: task.lastError } : {}),
                ...inFlight(task),
                ...(task?.startedAt ? { startedAt: task.startedAt } : {}),
                ...(task?.finishedAt ? { finishedAt: task.finishedAt } : {}),
                ...(task?.result === undefined ? {} : { result: parsed(task.result) }),
              };
            }),
          }
        : {}),
    };
  });
  const at = job.plan?.[current];
  return {
    jobId: job.jobId,
    name: job.name,
    state: job.jobState,
    ...(at && job.jobState !== JobState.succeeded
      ? { currentStep: { index: current, name: at.name } }
      : {}),
    ...(job.reason ? { reason: job.reason } : {}),
    input: parsed(job.input),
    steps,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
  };
}
