import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { EventEnvelope } from '../../lib/producer/index.js';
import { drainQueue, peekQueue, queueDepth } from '../../lib/testing/queues.js';
import { readInbox, scanPrefix } from '../../lib/testing/state.js';
import { USER_SCORE_EVENTS } from '../example/example-stack.js';
import type { ExampleOutputs, Target } from './deploy.js';
import { expectedScores } from './expected-state.js';
import { CloudWatchLogsClient, consumerLogFacts, jsonLogLines, relayLogFacts } from './observe.js';
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
  /** Runs between driving the operations and waiting for the consumer (the soak switches faults off). */
  readonly afterDrive?: () => Promise<void>;
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

/** Dead letters of both queues, whatever wrote them, with the event id where there is one. */
async function deadLetters(clients: RunClients, outputs: ExampleOutputs) {
  const bodies = [
    ...(await peekQueue(clients.sqs, outputs.RelayDeadLetterQueueUrl)),
    ...(await peekQueue(clients.sqs, outputs.UserScoreDeadLetterQueueUrl)),
  ].map((m) => m.Body ?? '');
  return bodies.map((body) => {
    const letter = JSON.parse(body) as {
      eventId?: string;
      reason?: string;
      kind?: string;
      requestContext?: { condition?: string };
    };
    return {
      eventId: letter.eventId,
      // A Lambda on-failure record has no reason of ours, only the mapping's condition.
      reason:
        letter.reason ??
        `event source mapping gave up: ${letter.requestContext?.condition ?? 'unknown'}`,
    };
  });
}

/** The kind of a dead-letter reason, with the event-specific details left out. */
function reasonKind(reason: string): string {
  return reason
    .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, '<id>')
    .replace(/[0-9a-f]{8}-o\d+/g, '<order>')
    .replace(/[0-9a-f]{8}-u\d+/g, '<user>')
    .replace(/after \d+ attempts/, 'after N attempts');
}

/** Every aggregate's committed versions must run 1, 2, 3... with no gap and no repeat. */
function versionGaps(events: readonly EventEnvelope[]): number {
  const byAggregate = new Map<string, number[]>();
  for (const e of events) {
    const key = `${e.aggregate.type}#${e.aggregate.id}`;
    byAggregate.set(key, [...(byAggregate.get(key) ?? []), e.aggregate.version]);
  }
  let gaps = 0;
  for (const versions of byAggregate.values()) {
    const sorted = [...versions].sort((a, b) => a - b);
    sorted.forEach((v, i) => {
      if (v !== i + 1) gaps++;
    });
  }
  return gaps;
}

/**
 * The event a consumed event of the example waits for ("not yet"): the payment of a
 * cancelled paid order, or the event that opened the user's region version for a payment.
 */
function predecessorOf(
  event: EventEnvelope,
  events: readonly EventEnvelope[],
): EventEnvelope | undefined {
  const p = event.payload as Record<string, unknown>;
  if (event.type === 'OrderCanceled')
    return events.find(
      (e) => e.type === 'OrderPaid' && (e.payload as Record<string, unknown>).orderId === p.orderId,
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
}

/**
 * Drives business operations through the deployed example, waits until the user-score
 * service has caught up, and compares what was committed with what was published and
 * applied.
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
    onProgress: (done) => options.onDriveProgress?.(done, options.operations),
  }).catch((error: unknown) => {
    throw error instanceof StageError
      ? error
      : new StageError('drive operations', (error as Error).message, [], { cause: error });
  });
  await options.afterDrive?.();
  const written = new Map(workload.events.map((e) => [e.id, e]));
  const consumed = workload.events.filter((e) => USER_SCORE_EVENTS.includes(e.type));

  // Wait until every consumed event is applied or dead-lettered and the queue is empty,
  // or nothing has moved for the idle timeout.
  const idleTimeoutMs = options.idleTimeoutMs ?? 90_000;
  let applied = new Map<string, string>();
  let letters: Awaited<ReturnType<typeof deadLetters>> = [];
  let lastSettled = -1;
  let lastProgress = Date.now();
  for (let round = 0; ; round++) {
    applied = new Map(
      [...(await readInbox(ddb, outputs.UserScoreTableName, 'user-score'))].map(
        ([id, record]) => [id, record.processedAt] as const,
      ),
    );
    if (round % 5 === 0) letters = await deadLetters(clients, outputs);
    const dead = new Set(letters.map((l) => l.eventId));
    const settled = consumed.filter((e) => applied.has(e.id) || dead.has(e.id)).length;
    options.onWaitProgress?.(settled, consumed.length);
    if (settled === consumed.length && (await queueDepth(sqs, outputs.UserScoreQueueUrl)) === 0)
      break;
    if (settled !== lastSettled) {
      lastSettled = settled;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > idleTimeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }

  letters = await deadLetters(clients, outputs);
  const audited = (await drainQueue(sqs, outputs.AuditQueueUrl)).map(
    (message) => (JSON.parse(message.Body ?? '') as { detail: EventEnvelope }).detail.id,
  );
  const publishedIds = new Set(audited.filter((id) => written.has(id)));
  const publishedTwice = audited.filter(
    (id, i) => written.has(id) && audited.indexOf(id) !== i,
  ).length;
  const deadLetteredIds = new Set(
    letters.flatMap((l) => (l.eventId && written.has(l.eventId) ? [l.eventId] : [])),
  );
  const lostAtRelay = workload.events.filter(
    (e) => !publishedIds.has(e.id) && !deadLetteredIds.has(e.id),
  );
  const lostAtConsumer = consumed.filter((e) => !applied.has(e.id) && !deadLetteredIds.has(e.id));
  const lost = new Set([...lostAtRelay, ...lostAtConsumer].map((e) => e.id)).size;
  // A "not yet" dead letter is explained when the event it waited for was dead-lettered too.
  const unexplainedNotYet = letters.filter((l) => {
    if (!l.reason.startsWith('Not yet') || !l.eventId) return false;
    const event = written.get(l.eventId);
    const predecessor = event && predecessorOf(event, workload.events);
    return !predecessor || !deadLetteredIds.has(predecessor.id);
  }).length;
  const deadLetterReasons: Record<string, number> = {};
  for (const letter of letters) {
    const kind = reasonKind(letter.reason);
    deadLetterReasons[kind] = (deadLetterReasons[kind] ?? 0) + 1;
  }

  const since = started - 60_000;
  const facts = consumerLogFacts(
    await jsonLogLines(lambda, logs, outputs.UserScoreFunctionName, since),
    new Set(consumed.map((e) => e.id)),
  );
  const relay = relayLogFacts(await jsonLogLines(lambda, logs, outputs.RelayFunctionName, since));
  const appliedEvents = consumed.filter((e) => applied.has(e.id));
  const expected = expectedScores(appliedEvents);
  const regions = await scanPrefix(ddb, outputs.UserScoreTableName, `USER#${runId}-`);
  const actual = new Map(
    regions
      .filter((i) => String(i.sk).startsWith('REGION#'))
      .map((i) => [`${i.userId}|${i.regionVersion}`, i.score as number]),
  );
  const scoresMatch =
    expected.size === actual.size &&
    [...expected].every(([key, score]) => actual.get(key) === score);

  return {
    operations: workload.operations,
    rejectedOperations: workload.rejected,
    eventsWritten: workload.events.length,
    eventsPublished: publishedIds.size,
    publishedTwice,
    eventsForUserScore: consumed.length,
    applied: appliedEvents.length,
    duplicatesAbsorbed: facts.duplicates,
    staleSkipped: facts.staleSkipped,
    notYetRetries: facts.notYetRetries,
    deadLettered: letters.length,
    deadLetterReasons,
    unexplainedNotYet,
    lost,
    appliedTwice: [...facts.handled.values()].filter((n) => n > 1).length,
    versionGaps: versionGaps(workload.events),
    scoresMatchInOrderReplay: scoresMatch,
    relayFaultsSeen: { failedCalls: relay.failedCalls, rejectedEntries: relay.rejectedEntries },
    writeToAppliedMs: latency(
      appliedEvents.map((e) => [e.time, applied.get(e.id) as string] as const),
    ),
    seconds: Math.round((Date.now() - started) / 1000),
  };
}
