import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fulfilmentJobId } from '../../functions/example/fulfilment/job.js';
import type { JobClient, JobStatus } from '../../lib/jobs/index.js';
import type { EventEnvelope } from '../../lib/producer/index.js';
import { scanPrefix } from '../../lib/testing/index.js';
import { type Letter, reasonKind } from './hops.js';

/** What happened to the fulfilment jobs the run's payments started. */
export interface JobsSummary {
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly stalled: number;
  readonly stalledReasons: Readonly<Record<string, number>>;
  /**
   * Not finished because one of their messages is in the relay's dead-letter queue (an
   * entry EventBridge rejected for good): waiting there for `eventbox dlq redrive`.
   */
  readonly heldInDeadLetterQueue: number;
  readonly heldReasons: Readonly<Record<string, number>>;
  /** Not finished when the run stopped waiting, and not held by a dead letter. */
  readonly unfinished: number;
  /** Started (the payment committed) but no job record: never, if starts are atomic. */
  readonly lost: number;
  /** Attempts beyond the first, of steps and of tasks (in their last round); extra rounds. */
  readonly stepRetries: number;
  readonly taskRetries: number;
  readonly extraRounds: number;
  /** Step and task effects found more often than their checkpoints say they ran. */
  readonly effectsAppliedTwice: number;
  /** What the stand-in external services did, deduplicated by idempotency key. */
  readonly externalEffects: { readonly charges: number; readonly notifications: number };
}

const FINAL = new Set(['succeeded', 'failed', 'stalled']);

/** The status of each job the paid orders started. */
export async function jobStatuses(
  jobs: JobClient,
  paid: readonly EventEnvelope[],
): Promise<Map<string, JobStatus | undefined>> {
  const ids = paid.map((e) => fulfilmentJobId((e.payload as { orderId: string }).orderId));
  return new Map(await Promise.all(ids.map(async (id) => [id, await jobs.status(id)] as const)));
}

/** The dead letter holding an unfinished job's message, if any: it names the job's id. */
function holdingLetter(jobId: string, letters: readonly Letter[]): Letter | undefined {
  // Whole ids only: o31 must not match o310.
  const id = new RegExp(`${jobId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`);
  return letters.find((l) => id.test(l.body));
}

/** Jobs that ended, or that wait on a dead letter of one of their messages. */
export function jobsFinished(
  statuses: ReadonlyMap<string, JobStatus | undefined>,
  letters: readonly Letter[] = [],
): number {
  return [...statuses.entries()].filter(
    ([id, s]) => s && (FINAL.has(s.state) || holdingLetter(id, letters)),
  ).length;
}

/** Accounts for every job, and checks each effect against what the checkpoints say. */
export async function jobsSummary(
  ddb: DynamoDBClient,
  tableName: string,
  runId: string,
  statuses: ReadonlyMap<string, JobStatus | undefined>,
  letters: readonly Letter[] = [],
): Promise<JobsSummary> {
  const all = [...statuses.values()];
  const open = [...statuses.entries()].filter(([, s]) => s && !FINAL.has(s.state));
  const held = open.flatMap(([id]) => holdingLetter(id, letters) ?? []);
  const heldReasons: Record<string, number> = {};
  for (const letter of held) {
    const kind = reasonKind(letter.reason);
    heldReasons[kind] = (heldReasons[kind] ?? 0) + 1;
  }
  const found = all.filter((s): s is JobStatus => s !== undefined);
  const count = (state: string) => found.filter((s) => s.state === state).length;
  const stalledReasons: Record<string, number> = {};
  for (const s of found.filter((j) => j.state === 'stalled')) {
    const kind = reasonKind(s.reason ?? 'no reason');
    stalledReasons[kind] = (stalledReasons[kind] ?? 0) + 1;
  }
  const steps = found.flatMap((s) => s.steps);
  const tasks = steps.flatMap((s) => s.tasks ?? []);
  const stepDone = (name: string) =>
    found.filter((s) => s.steps.find((st) => st.name === name)?.state === 'succeeded').length;
  // An external call is made before its step checkpoints: a step that then failed for
  // good (stalled) made it too, once per idempotency key.
  const stepTried = (name: string) =>
    found.filter((s) => {
      const step = s.steps.find((st) => st.name === name);
      return step !== undefined && (step.state === 'succeeded' || step.attempts > 0);
    }).length;

  const items = async (prefix: string) => scanPrefix(ddb, tableName, prefix);
  const reservations = await items(`RESERVATION#${runId}-`);
  const reserved = (await items(`RESERVED#${runId}-`)).reduce((sum, i) => sum + Number(i.units), 0);
  const charges = (await items(`CHARGE#fulfil-${runId}-`)).length;
  const notifications = (await items(`NOTIFICATION#fulfil-${runId}-`)).length;
  const points = (await items(`LOYALTY#${runId}-`)).reduce((sum, i) => sum + Number(i.points), 0);
  const pointsTasks = tasks.filter((t) => t.name === 'points' && t.state === 'succeeded').length;
  const shipments = (await items(`SHIPMENT#${runId}-`)).length;
  const effectsAppliedTwice =
    Math.max(0, reservations.length - stepDone('reserve-stock')) +
    Math.max(0, reserved - reservations.length) +
    Math.max(0, charges - stepTried('charge')) +
    Math.max(0, points / 10 - pointsTasks) +
    Math.max(0, shipments - stepDone('ship'));
  return {
    started: statuses.size,
    succeeded: count('succeeded'),
    failed: count('failed'),
    stalled: count('stalled'),
    stalledReasons,
    heldInDeadLetterQueue: held.length,
    heldReasons,
    unfinished: open.length - held.length,
    lost: all.length - found.length,
    stepRetries: steps.reduce((sum, s) => sum + Math.max(0, s.attempts - 1), 0),
    taskRetries: tasks.reduce((sum, t) => sum + Math.max(0, t.attempts - 1), 0),
    extraRounds: steps.reduce(
      (sum, s) => sum + Math.max(0, ...(s.tasks ?? []).map((t) => t.round - 1)),
      0,
    ),
    effectsAppliedTwice,
    externalEffects: { charges, notifications },
  };
}
