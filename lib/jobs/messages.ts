import { createEnvelope, serializeEnvelope } from '../envelope/create.js';
import type { EventEnvelope } from '../envelope/envelope.js';
import { OutboxItem, outboxItem } from '../envelope/outbox-item.js';
import type { TableLayout } from '../transaction/actions.js';
import { type PlannedAction, planCreate } from '../transaction/planners.js';

/**
 * The events job runs publish, through the jobs table's outbox and relay, to the bus: the
 * runner's own messages (what must leave an invocation: a start, a fan-out, a resume) and
 * notices other services can react to (a job ended or stalled).
 */
export const JobEvent = {
  source: 'eventbox.jobs',
  started: 'eventbox.job.started',
  task: 'eventbox.job.task',
  resumed: 'eventbox.job.resumed',
  succeeded: 'eventbox.job.succeeded',
  failed: 'eventbox.job.failed',
  stalled: 'eventbox.job.stalled',
} as const;

/** The types a runner consumes. */
export const RUNNER_EVENT_TYPES = [JobEvent.started, JobEvent.task, JobEvent.resumed] as const;

export interface JobEventPayload {
  readonly jobId: string;
  readonly name: string;
  /** The jobs table, so a runner only takes its own jobs' messages. */
  readonly jobsTable: string;
  /** Task messages: which task, of which step, in which round. */
  readonly stepIndex?: number;
  readonly task?: string;
  readonly round?: number;
  /** Stalled and failed notices. */
  readonly reason?: string;
}

/** A job event to publish: its type and payload. */
export type JobEventInput = { readonly type: string; readonly payload: JobEventPayload };

/**
 * Outbox items for job events, all of one commit: aggregate `Job`/jobId at the version the
 * commit gives the job, one index each, so no two can collide.
 */
export function planJobEvents(
  layout: TableLayout,
  version: number,
  events: readonly JobEventInput[],
  options: {
    readonly now: Date;
    readonly correlationId?: string;
    readonly ttlSeconds?: number;
    /** Another aggregate than the job's: a message whose guard is a step's or task's record. */
    readonly aggregate?: { readonly type: string; readonly id: string };
  },
): Array<PlannedAction & { readonly envelope: EventEnvelope<JobEventPayload> }> {
  return events.map(({ type, payload }, index) => {
    const envelope = createEnvelope(
      {
        type,
        aggregate: { ...(options.aggregate ?? { type: 'Job', id: payload.jobId }), version },
        payload,
        correlationId: options.correlationId ?? payload.jobId,
      },
      { source: JobEvent.source, now: options.now },
    );
    const item = outboxItem({
      envelope,
      detail: serializeEnvelope(envelope),
      keys: layout,
      index,
      ttl: {
        attribute: OutboxItem.defaultTtlAttribute,
        seconds: options.ttlSeconds ?? OutboxItem.defaultTtlSeconds,
      },
      now: options.now,
    });
    return {
      ...planCreate(layout, 'publish', item, {
        expectedVersion: version - 1,
        eventId: envelope.id,
      }),
      envelope,
    };
  });
}
