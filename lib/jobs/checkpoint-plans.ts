import type { TableLayout } from '../transaction/actions.js';
import {
  type PlannedAction,
  planCheck,
  planPut,
  planUpdate,
  type UpdateChange,
} from '../transaction/planners.js';
import {
  JobKeys,
  type JobRecord,
  jobKey,
  type StepRecord,
  stepItem,
  type TaskRecord,
  TaskState,
  taskKey,
} from './records.js';
import { jobActionKind, type RecordChanges, type StepWrite } from './store.js';

/** A job record's write, as its transaction's failures name it. */
const asJobAction = (planned: PlannedAction): PlannedAction => ({
  ...planned,
  summary: { ...planned.summary, kind: jobActionKind },
});

/**
 * A checkpoint's writes as the actions of one TransactWriteItems, each guarded by the
 * version it was read at: what `DynamoJobStore` commits, and what `MemoryJobStore` counts
 * against the same limits.
 */
export const CheckpointPlans = {
  job(
    layout: TableLayout,
    job: Pick<JobRecord, 'jobId' | 'version'>,
    changes: RecordChanges,
  ): PlannedAction {
    return asJobAction(
      planUpdate(layout, jobKey(job.jobId), changes as Record<string, UpdateChange>, {
        expectedVersion: job.version,
      }),
    );
  },

  running(layout: TableLayout, job: Pick<JobRecord, 'jobId'>): PlannedAction {
    return asJobAction(planCheck(layout, jobKey(job.jobId), { attr: 'jobState', eq: 'running' }));
  },

  step(layout: TableLayout, record: StepWrite, previous: StepRecord | undefined): PlannedAction {
    return asJobAction(
      planPut(layout, stepItem(record), { expectedVersion: previous?.version ?? 0 }),
    );
  },

  task(
    layout: TableLayout,
    task: Pick<TaskRecord, 'jobId' | 'stepIndex' | 'task' | 'version'>,
    changes: RecordChanges,
  ): PlannedAction {
    return asJobAction(
      planUpdate(
        layout,
        taskKey(task.jobId, task.stepIndex, task.task),
        changes as Record<string, UpdateChange>,
        { expectedVersion: task.version },
      ),
    );
  },

  /** A fan-out's task, pending at version 1: unguarded, the job record's guard covers it. */
  createTask(layout: TableLayout, task: TaskRecord): PlannedAction {
    return planPut(layout, { ...task, _eventbox: JobKeys.taskMarker }, {});
  },
};

/** A task record as a fan-out creates it. */
export function newTask(task: Pick<TaskRecord, 'jobId' | 'stepIndex' | 'task'>): TaskRecord {
  return {
    ...taskKey(task.jobId, task.stepIndex, task.task),
    jobId: task.jobId,
    stepIndex: task.stepIndex,
    task: task.task,
    taskState: TaskState.pending,
    attempts: 0,
    round: 1,
    version: 1,
  };
}
