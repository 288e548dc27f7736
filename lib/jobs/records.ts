/**
 * How jobs are stored in the jobs table (string keys `pk`/`sk`):
 * - the job `JOB#<jobId>` / `JOB`: its state, current step, every step's attempts and last
 *   error, the results, and `version`, the guard every checkpoint commits against;
 * - each task of a parallel step `JOB#<jobId>` / `TASK#<step index>#<task>`: its state,
 *   attempts, last error and result, with a `version` of its own.
 * One query of the partition reads the whole status. The `byState` index (`jobState`,
 * `jobCreatedAt`, keys only and the name) lists jobs by state without a scan; its keys
 * change only when the state does, so checkpoints do not write to it.
 */

export const JobState = {
  pending: 'pending',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  stalled: 'stalled',
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

export const TaskState = {
  pending: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

export const JobKeys = {
  partitionPrefix: 'JOB#',
  jobSortKey: 'JOB',
  taskPrefix: 'TASK#',
  /** The index that lists jobs by state. */
  byStateIndex: 'byState',
  stateAttribute: 'jobState',
  createdAttribute: 'jobCreatedAt',
  marker: 'job',
  taskMarker: 'job-task',
} as const;

/** A step as the job record lists it. */
export interface PlannedStep {
  readonly name: string;
  readonly kind: 'step' | 'parallel';
  readonly tasks?: readonly string[];
}

/** What a step has done so far, kept in the job record. */
export interface StepRecord {
  readonly state: 'running' | 'succeeded' | 'failed' | 'stalled';
  readonly attempts: number;
  readonly lastError?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

export interface JobRecord {
  readonly pk: string;
  readonly sk: string;
  readonly jobId: string;
  readonly name: string;
  /** The validated input, as JSON. */
  readonly input: string;
  readonly jobState: JobState;
  readonly jobCreatedAt: string;
  /** The steps as defined when the job started, so its status needs no definition. */
  readonly plan: readonly PlannedStep[];
  readonly stepIndex: number;
  /** Set while a parallel step runs: `tasks` (fanned out), then `aggregating`. */
  readonly phase?: 'tasks' | 'aggregating';
  /** The round of the current parallel step: 1, then one more per `retry`. */
  readonly round?: number;
  /** Who runs the current aggregator: a task message or a resume. */
  readonly claim?: string;
  readonly steps: Readonly<Record<string, StepRecord>>;
  /** Step results, as JSON, by step name. */
  readonly results: Readonly<Record<string, string>>;
  /** Why the job stalled or failed. */
  readonly reason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  readonly version: number;
}

export interface TaskRecord {
  readonly pk: string;
  readonly sk: string;
  readonly jobId: string;
  readonly stepIndex: number;
  readonly task: string;
  readonly taskState: TaskState;
  readonly attempts: number;
  readonly round: number;
  readonly lastError?: string;
  /** The result, as JSON. */
  readonly result?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly version: number;
}

export function jobKey(jobId: string): { pk: string; sk: string } {
  return { pk: `${JobKeys.partitionPrefix}${jobId}`, sk: JobKeys.jobSortKey };
}

export function taskPrefix(stepIndex: number): string {
  return `${JobKeys.taskPrefix}${String(stepIndex).padStart(3, '0')}#`;
}

export function taskKey(
  jobId: string,
  stepIndex: number,
  task: string,
): { pk: string; sk: string } {
  return { pk: `${JobKeys.partitionPrefix}${jobId}`, sk: `${taskPrefix(stepIndex)}${task}` };
}

/** The value as JSON text, or why it cannot be stored. */
export function storable(value: unknown): { json: string } | { problem: string } {
  if (value === undefined) return { json: 'null' };
  try {
    const json = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v))
        throw new Error(`${v} is not a JSON number`);
      if (typeof v === 'function' || typeof v === 'symbol') throw new Error(`a ${typeof v}`);
      return v;
    });
    return json === undefined ? { problem: 'not representable in JSON' } : { json };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}

/** An error as the one line kept in a record. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 1_000 ? `${text.slice(0, 997)}...` : text;
}
