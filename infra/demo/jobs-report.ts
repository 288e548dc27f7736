import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fulfilmentJobId } from '../../functions/example/fulfilment/job.js';
import type { JobClient, JobStatus } from '../../lib/jobs/client.js';
import type { EventEnvelope } from '../../lib/producer/index.js';
import { scanPrefix } from '../../lib/testing/state.js';
import { reasonKind } from './hops.js';

/** What happened to the fulfilment jobs the run's payments started. */
export interface JobsSummary {
  readonly started: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly stalled: number;
  readonly stalledReasons: Readonly<Record<string, number>>;
  /** Not finished when the run stopped waiting. */
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

export function jobsFinished(statuses: ReadonlyMap<string, JobStatus | undefined>): number {
  return [...statuses.values()].filter((s) => s && FINAL.has(s.state)).length;
}

/** Accounts for every job, and checks each effect against what the checkpoints say. */
export async function jobsSummary(
  ddb: DynamoDBClient,
  tableName: string,
  runId: string,
  statuses: ReadonlyMap<string, JobStatus | undefined>,
): Promise<JobsSummary> {
  const all = [...statuses.values()];
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
    Math.max(0, charges - stepDone('charge')) +
    Math.max(0, points / 10 - pointsTasks) +
    Math.max(0, shipments - stepDone('ship'));
  return {
    started: statuses.size,
    succeeded: count('succeeded'),
    failed: count('failed'),
    stalled: count('stalled'),
    stalledReasons,
    unfinished: found.filter((s) => !FINAL.has(s.state)).length,
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
