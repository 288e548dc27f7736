import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CRASH_RECORD_PREFIX } from '../../functions/demo/config.js';
import { REWARD_TIERS } from '../../functions/example/rewards/events.js';
import { JobClient, type JobStatus } from '../../lib/jobs/index.js';
import type { EventEnvelope } from '../../lib/producer/index.js';

import {
  drainQueue,
  parseDeadLetter,
  peekQueue,
  queueDepth,
  readInbox,
  scanPrefix,
} from '../../lib/testing/index.js';
import { USER_SCORE_EVENTS } from '../example/example-stack.js';
import type { ExampleOutputs, Target } from './deploy.js';
import { expectedRewards, expectedScores } from './expected-state.js';
import { hopSummary, type Letter, versionGaps } from './hops.js';
import { jobStatuses, jobsFinished, jobsSummary } from './jobs-report.js';
import { CloudWatchLogsClient, consumerLogFacts, jsonLogLines, relayLogFacts } from './observe.js';
import type { RepairReport, RepairRun } from './repair.js';
import { StageError } from './stage-error.js';
import { type DemoSummary, latency } from './summary.js';
import { driveWorkload } from './workload.js';

export interface RunOptions {
  readonly target: Target;
  readonly outputs: ExampleOutputs;
  readonly operations: number;
  readonly seed?: number;
  /** At most this many users: fewer means more concurrent writers per aggregate. @default 20 */
  readonly maxUsers?: number;
  /** Stop waiting when nothing has moved for this long. @default 90 s */
  readonly idleTimeoutMs?: number;
  /** Runs between driving the operations and waiting for the consumers (the soak switches faults off). */
  readonly afterDrive?: () => Promise<void>;
  /** A region the workload sometimes moves users to (the soak's consumer bug). */
  readonly poisonRegion?: string;
  /**
   * Runs once everything has settled (the soak's repair: the fix deployed, then redrives),
   * with the letters then and a way to wait until quiet again; its report joins the summary.
   */
  readonly repair?: (run: RepairRun) => Promise<RepairReport>;
  readonly onDriveProgress?: (done: number, total: number) => void;
  readonly onWaitProgress?: (settled: number, expected: number) => void;
}

export type RunClients = ReturnType<typeof runClients>;

export function runClients(target: Pick<Target, 'clientConfig'>) {
  const config = target.clientConfig;
  return {
    lambda: new LambdaClient({ ...config, maxAttempts: 1 }),
    ddb: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    logs: new CloudWatchLogsClient(config),
  };
}

/** Dead letters of every queue of the chain, whatever wrote them, with the event id where there is one. */
async function deadLetters(clients: RunClients, outputs: ExampleOutputs): Promise<Letter[]> {
  const queues = [
    outputs.RelayDeadLetterQueueUrl,
    outputs.UserScoreDeadLetterQueueUrl,
    outputs.RewardsDeadLetterQueueUrl,
  ];
  const messages = (await Promise.all(queues.map((url) => peekQueue(clients.sqs, url)))).flat();
  return messages.map((message) => {
    const body = message.Body ?? '';
    const letter = parseDeadLetter(body);
    return {
      eventId: 'eventId' in letter ? letter.eventId : undefined,
      reason: letter.reason,
      body,
    };
  });
}

/**
 * The event a consumed event of the example waits for ("not yet"): the payment of a
 * cancelled paid order, or the event that opened the user's region version for a payment.
 */
function predecessorIn(events: readonly EventEnvelope[]) {
  return (event: EventEnvelope): EventEnvelope | undefined => {
    const p = event.payload as Record<string, unknown>;
    if (event.type === 'OrderCanceled')
      return events.find(
        (e) =>
          e.type === 'OrderPaid' && (e.payload as Record<string, unknown>).orderId === p.orderId,
      );
    if (event.type === 'OrderPaid') {
      return events.find((e) => {
        const q = e.payload as Record<string, unknown>;
        return (
          (e.type === 'UserCreated' || e.type === 'UserRegionChanged') &&
          q.userId === p.userId &&
          q.regionVersion === p.userRegionVersion
        );
      });
    }
    return undefined;
  };
}

/** What a consumer applied, by event id: when. */
async function appliedBy(ddb: DynamoDBClient, tableName: string, consumer: string) {
  return new Map(
    [...(await readInbox(ddb, tableName, consumer))].map(([id, r]) => [id, r.processedAt]),
  );
}

/** The score changes user-score committed for this run's users, from its outbox items. */
async function scoreChanges(ddb: DynamoDBClient, outputs: ExampleOutputs, runId: string) {
  const items = await scanPrefix(ddb, outputs.UserScoreTableName, `OUTBOX#UserScore#${runId}-`);
  return items.map((item) => JSON.parse(String(item.detail)) as EventEnvelope);
}

/**
 * Drives business operations through the deployed example, waits until every service of
 * the chain has caught up, and accounts for every event hop by hop: committed, published,
 * applied, dead-lettered or lost.
 */
export async function runDemo(options: RunOptions): Promise<DemoSummary> {
  const started = Date.now();
  const clients = runClients(options.target);
  const { lambda, ddb, sqs, logs } = clients;
  const { outputs } = options;
  const runId = randomUUID().slice(0, 8);

  const workload = await driveWorkload(lambda, outputs.OrdersFunctionName, {
    operations: options.operations,
    runId,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.maxUsers === undefined ? {} : { maxUsers: options.maxUsers }),
    ...(options.poisonRegion === undefined ? {} : { poisonRegion: options.poisonRegion }),
    onProgress: (done) => options.onDriveProgress?.(done, options.operations),
  }).catch((error: unknown) => {
    throw error instanceof StageError
      ? error
      : new StageError('drive operations', (error as Error).message, [], { cause: error });
  });
  await options.afterDrive?.();
  const orders = [...workload.events];
  const forUserScore = orders.filter((e) => USER_SCORE_EVENTS.includes(e.type));

  // Wait until every event of both hops is applied or dead-lettered and the queues are
  // empty, or nothing has moved for the idle timeout. The second hop's events appear as
  // the first hop is applied, so both are read again each round.
  const idleTimeoutMs = options.idleTimeoutMs ?? 90_000;
  let userScoreApplied = new Map<string, string>();
  let rewardsApplied = new Map<string, string>();
  let scores: EventEnvelope[] = [];
  let letters: Letter[] = [];
  const jobs = new JobClient({ tableName: outputs.JobsTableName, client: ddb });
  const paid = orders.filter((e) => e.type === 'OrderPaid');
  let statuses = new Map<string, JobStatus | undefined>();
  const settle = async () => {
    let lastSettled = -1;
    let lastProgress = Date.now();
    for (let round = 0; ; round++) {
      userScoreApplied = await appliedBy(ddb, outputs.UserScoreTableName, 'user-score');
      rewardsApplied = await appliedBy(ddb, outputs.RewardsTableName, 'rewards');
      scores = await scoreChanges(ddb, outputs, runId);
      if (round % 5 === 0) letters = await deadLetters(clients, outputs);
      const dead = new Set(letters.map((l) => l.eventId));
      statuses = await jobStatuses(jobs, paid);
      const settled =
        forUserScore.filter((e) => userScoreApplied.has(e.id) || dead.has(e.id)).length +
        scores.filter((e) => rewardsApplied.has(e.id) || dead.has(e.id)).length +
        jobsFinished(statuses, letters);
      const expected = forUserScore.length + scores.length + paid.length;
      options.onWaitProgress?.(settled, expected);
      if (settled === expected) {
        const depths = await Promise.all(
          [outputs.UserScoreQueueUrl, outputs.RewardsQueueUrl, outputs.JobRunnerQueueUrl].map(
            (url) => queueDepth(sqs, url),
          ),
        );
        if (depths.every((d) => d === 0)) break;
      }
      if (settled !== lastSettled) {
        lastSettled = settled;
        lastProgress = Date.now();
      } else if (Date.now() - lastProgress > idleTimeoutMs) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    scores = await scoreChanges(ddb, outputs, runId);
    letters = await deadLetters(clients, outputs);
    return letters;
  };
  await settle();
  const repair = options.repair
    ? await options.repair({
        letters,
        settle,
        runId,
        users: orders.flatMap((e) =>
          e.type === 'UserCreated' ? [String((e.payload as { userId: string }).userId)] : [],
        ),
        applied: async (events) => {
          const done = await appliedBy(ddb, outputs.UserScoreTableName, 'user-score');
          return events.filter((e) => done.has(e.id)).length;
        },
        addEvents: (events) => {
          for (const e of events) {
            orders.push(e);
            if (USER_SCORE_EVENTS.includes(e.type)) forUserScore.push(e);
            if (e.type === 'OrderPaid') paid.push(e);
          }
        },
      })
    : undefined;

  // The bus tap: every event of this run the relay published, in the order it saw them.
  const audited = (await drainQueue(sqs, outputs.AuditQueueUrl))
    .map((message) => (JSON.parse(message.Body ?? '') as { detail: EventEnvelope }).detail)
    .filter((e) => JSON.stringify(e.payload).includes(runId));
  const auditedFrom = (source: string) =>
    audited.filter((e) => e.source === source).map((e) => e.id);

  const since = started - 60_000;
  const userScoreLines = await jsonLogLines(lambda, logs, outputs.UserScoreFunctionName, since);
  const rewardsLines = await jsonLogLines(lambda, logs, outputs.RewardsFunctionName, since);
  const hops = [
    hopSummary({
      name: 'orders → user-score',
      committed: orders,
      consumed: forUserScore,
      audited: auditedFrom('orders'),
      applied: userScoreApplied,
      letters,
      facts: consumerLogFacts(userScoreLines, new Set(forUserScore.map((e) => e.id))),
      crashRecorded: new Set(
        (await scanPrefix(ddb, outputs.UserScoreTableName, CRASH_RECORD_PREFIX)).map((r) =>
          String(r.pk).slice(CRASH_RECORD_PREFIX.length),
        ),
      ),
      predecessorOf: predecessorIn(orders),
    }),
    hopSummary({
      name: 'user-score → rewards',
      committed: scores,
      consumed: scores,
      audited: auditedFrom('user-score'),
      applied: rewardsApplied,
      letters,
      facts: consumerLogFacts(rewardsLines, new Set(scores.map((e) => e.id))),
    }),
  ];

  const relay = relayLogFacts(await jsonLogLines(lambda, logs, outputs.RelayFunctionName, since));
  const appliedOrders = forUserScore.filter((e) => userScoreApplied.has(e.id));
  const expected = expectedScores(appliedOrders);
  const regions = await scanPrefix(ddb, outputs.UserScoreTableName, `USER#${runId}-`);
  const actual = new Map(
    regions
      .filter((i) => String(i.sk).startsWith('REGION#'))
      .map((i) => [`${i.userId}|${i.regionVersion}`, i.score as number]),
  );
  const scoresMatch =
    expected.size === actual.size &&
    [...expected].every(([key, score]) => actual.get(key) === score);
  const wantedRewards = expectedRewards(
    scores.filter((e) => rewardsApplied.has(e.id)),
    REWARD_TIERS,
  );
  const granted = new Set(
    (await scanPrefix(ddb, outputs.RewardsTableName, `REWARD#${runId}-`)).map(
      (r) => `${r.userId}|${r.regionVersion}|${r.tier}`,
    ),
  );
  const rewardsMatch =
    wantedRewards.size === granted.size && [...wantedRewards].every((r) => granted.has(r));
  const ordersById = new Map(orders.map((e) => [e.id, e]));
  const chain = scores.flatMap((score) => {
    const origin = score.causationId ? ordersById.get(score.causationId) : undefined;
    const applied = rewardsApplied.get(score.id);
    return origin && applied ? [[origin.time, applied] as const] : [];
  });

  return {
    operations: workload.operations,
    rejectedOperations: workload.rejected,
    eventsWritten: orders.length,
    hops,
    lost: hops.reduce((sum, h) => sum + h.lost, 0),
    appliedTwice: hops.reduce((sum, h) => sum + h.appliedTwice, 0),
    deadLettered: hops.reduce((sum, h) => sum + h.deadLettered, 0),
    publishedWithoutCommit: hops.reduce((sum, h) => sum + h.publishedWithoutCommit, 0),
    versionGaps: versionGaps([...orders, ...scores]),
    scoresMatchInOrderReplay: scoresMatch,
    rewardsMatchInOrderReplay: rewardsMatch,
    rewardsGranted: granted.size,
    relayFaultsSeen: { failedCalls: relay.failedCalls, rejectedEntries: relay.rejectedEntries },
    writeToAppliedMs: latency(
      appliedOrders.map((e) => [e.time, userScoreApplied.get(e.id) ?? e.time]),
    ),
    chainWriteToAppliedMs: latency(chain),
    jobs: await jobsSummary(ddb, outputs.OrdersTableName, runId, statuses, letters),
    seconds: Math.round((Date.now() - started) / 1000),
    ...(repair ? { repair } : {}),
  };
}
