/**
 * How jobs are stored in the jobs table (string keys `pk`/`sk`), one partition per job:
 * - the job `JOB#<jobId>` / `JOB`: its input, state, the phase of a parallel step, and
 *   `version`, the guard of every change of state or phase;
 * - each step that has started `STEP#<index>`: its state, attempts, last error, result,
 *   and a `version` of its own: a sequential step's checkpoint writes only this item, so
 *   the job record does not grow with the results nor get rewritten at every step;
 * - each task of a parallel step `TASK#<step index>#<task>`, likewise.
 * One query of the partition reads the whole job. The `byState` index (`jobState`,
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
  stepPrefix: 'STEP#',
  /** The index that lists jobs by state. */
  byStateIndex: 'byState',
  stateAttribute: 'jobState',
  createdAttribute: 'jobCreatedAt',
  marker: 'job',
  stepMarker: 'job-step',
  taskMarker: 'job-task',
} as const;

/** A step as the job record lists it. */
export interface PlannedStep {
  readonly name: string;
  readonly kind: 'step' | 'parallel';
  readonly tasks?: readonly string[];
}

/** What a step has done so far: its own item in the job's partition. */
export interface StepRecord {
  readonly pk: string;
  readonly sk: string;
  readonly jobId: string;
  readonly stepIndex: number;
  readonly step: string;
  readonly stepState: 'running' | 'succeeded' | 'stalled';
  /** Attempts started: each is recorded, with its holder and lease, before it runs. */
  readonly attempts: number;
  /** The invocation running the current attempt, until `leaseUntil`; absent between attempts. */
  readonly holder?: string;
  readonly leaseUntil?: string;
  /** The next attempt waits until then: the backoff after a failure. */
  readonly notBefore?: string;
  readonly lastError?: string;
  /** The result, as JSON. */
  readonly result?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly version: number;
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
  /** Set while a parallel step runs: `tasks` (fanned out), then `aggregating`. */
  readonly phase?: 'tasks' | 'aggregating';
  /** The index of the parallel step `phase` is about. */
  readonly phaseStep?: number;
  /** The round of the current parallel step: 1, then one more per `retry`. */
  readonly round?: number;
  /** The invocation running the current aggregator, until `claimUntil`. */
  readonly claim?: string;
  readonly claimUntil?: string;
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
  /** Attempts started in this round, each recorded before it runs. */
  readonly attempts: number;
  /** The invocation running the current attempt, until `leaseUntil`; absent between attempts. */
  readonly holder?: string;
  readonly leaseUntil?: string;
  /** The next attempt waits until then: the backoff after a failure. */
  readonly notBefore?: string;
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

const pad = (index: number) => String(index).padStart(3, '0');

export function stepKey(jobId: string, stepIndex: number): { pk: string; sk: string } {
  return { pk: `${JobKeys.partitionPrefix}${jobId}`, sk: `${JobKeys.stepPrefix}${pad(stepIndex)}` };
}

/**
 * A step record's item as a checkpoint puts it: its key, its fields and marker; the keys
 * and version of a record read back are left to the put, which sets them itself.
 */
export function stepItem(
  record: Omit<StepRecord, 'version' | 'pk' | 'sk'> &
    Partial<Pick<StepRecord, 'version' | 'pk' | 'sk'>>,
): Record<string, unknown> {
  const { version: _version, pk: _pk, sk: _sk, ...fields } = record;
  return { ...stepKey(record.jobId, record.stepIndex), ...fields, _eventbox: JobKeys.stepMarker };
}

export function taskPrefix(stepIndex: number): string {
  return `${JobKeys.taskPrefix}${pad(stepIndex)}#`;
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
