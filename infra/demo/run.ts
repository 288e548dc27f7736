import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { EventEnvelope } from '../../lib/producer/index.js';
import { USER_SCORE_EVENTS } from '../example/example-stack.js';
import type { ExampleOutputs } from './deploy.js';
import { expectedScores } from './expected-state.js';
import {
  CloudWatchLogsClient,
  consumerLogFacts,
  drainQueue,
  inboxRecords,
  itemsWithPrefix,
  peekQueue,
  queueDepth,
} from './observe.js';
import { StageError } from './stage-error.js';
import { type DemoSummary, latency } from './summary.js';
import { driveWorkload } from './workload.js';

export interface RunOptions {
  readonly endpoint: string;
  readonly env: Readonly<Record<string, string>>;
  readonly outputs: ExampleOutputs;
  readonly operations: number;
  readonly seed?: number;
  /** Stop waiting when nothing has moved for this long. @default 90 s */
  readonly idleTimeoutMs?: number;
  readonly onDriveProgress?: (done: number, total: number) => void;
  readonly onWaitProgress?: (applied: number, expected: number) => void;
}

function clients(endpoint: string, env: Readonly<Record<string, string>>) {
  const config = {
    endpoint,
    region: env.AWS_REGION ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(env.AWS_ACCESS_KEY_ID
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test',
          },
        }
      : {}),
  };
  return {
    lambda: new LambdaClient({ ...config, maxAttempts: 1 }),
    ddb: new DynamoDBClient(config),
    sqs: new SQSClient(config),
    logs: new CloudWatchLogsClient(config),
  };
}

/**
 * Drives business operations through the deployed example, waits until the user-score
 * service has caught up, and compares what was committed with what was published and
 * applied.
 */
export async function runDemo(options: RunOptions): Promise<DemoSummary> {
  const started = Date.now();
  const { lambda, ddb, sqs, logs } = clients(options.endpoint, options.env);
  const { outputs } = options;
  const runId = randomUUID().slice(0, 8);

  const workload = await driveWorkload(lambda, outputs.OrdersFunctionName, {
    operations: options.operations,
    runId,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    onProgress: (done) => options.onDriveProgress?.(done, options.operations),
  }).catch((error: unknown) => {
    throw error instanceof StageError
      ? error
      : new StageError('drive operations', (error as Error).message, [], { cause: error });
  });
  const written = new Map(workload.events.map((e) => [e.id, e]));
  const consumed = workload.events.filter((e) => USER_SCORE_EVENTS.includes(e.type));

  // Wait for the consumer: every consumed event applied or dead-lettered, and its queue empty.
  const idleTimeoutMs = options.idleTimeoutMs ?? 90_000;
  let applied = new Map<string, string>();
  let lastProgress = Date.now();
  let lastCount = -1;
  for (;;) {
    applied = await inboxRecords(ddb, outputs.UserScoreTableName, 'user-score');
    const count = consumed.filter((e) => applied.has(e.id)).length;
    options.onWaitProgress?.(count, consumed.length);
    const pending = await queueDepth(sqs, outputs.UserScoreQueueUrl);
    if (count === consumed.length && pending === 0) break;
    if (count !== lastCount) {
      lastCount = count;
      lastProgress = Date.now();
    } else if (Date.now() - lastProgress > idleTimeoutMs) {
      if (
        pending === 0 &&
        (await queueDepth(sqs, outputs.UserScoreDeadLetterQueueUrl)) +
          (await queueDepth(sqs, outputs.RelayDeadLetterQueueUrl)) >
          0
      )
        break;
      if (pending === 0) break;
      lastProgress = Date.now() - idleTimeoutMs / 2;
      if (Date.now() - started > 10 * idleTimeoutMs) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }

  const audited = (await drainQueue(sqs, outputs.AuditQueueUrl)).map(
    (body) => (JSON.parse(body) as { detail: EventEnvelope }).detail.id,
  );
  const publishedIds = new Set(audited.filter((id) => written.has(id)));
  const publishedTwice = audited.filter(
    (id, i) => written.has(id) && audited.indexOf(id) !== i,
  ).length;
  const deadLetters = [
    ...(await peekQueue(sqs, outputs.RelayDeadLetterQueueUrl)),
    ...(await peekQueue(sqs, outputs.UserScoreDeadLetterQueueUrl)),
  ];
  const deadLetteredIds = new Set(
    deadLetters.flatMap((body) => {
      const letter = JSON.parse(body) as { eventId?: string };
      return letter.eventId && written.has(letter.eventId) ? [letter.eventId] : [];
    }),
  );
  const lostAtRelay = workload.events.filter(
    (e) => !publishedIds.has(e.id) && !deadLetteredIds.has(e.id),
  );
  const lostAtConsumer = consumed.filter((e) => !applied.has(e.id) && !deadLetteredIds.has(e.id));
  const lost = new Set([...lostAtRelay, ...lostAtConsumer].map((e) => e.id)).size;

  const facts = await consumerLogFacts(
    lambda,
    logs,
    outputs.UserScoreFunctionName,
    started - 60_000,
    new Set(consumed.map((e) => e.id)),
  );
  const expected = expectedScores(consumed);
  const regions = await itemsWithPrefix(ddb, outputs.UserScoreTableName, `USER#${runId}-`);
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
    applied: consumed.filter((e) => applied.has(e.id)).length,
    duplicatesAbsorbed: facts.duplicates,
    staleSkipped: facts.staleSkipped,
    notYetRetries: facts.notYetRetries,
    deadLettered: deadLetters.length,
    lost,
    appliedTwice: [...facts.handled.values()].filter((n) => n > 1).length,
    scoresMatchInOrderReplay: scoresMatch,
    writeToAppliedMs: latency(
      consumed.flatMap((e) =>
        applied.has(e.id) ? [[e.time, applied.get(e.id) as string] as const] : [],
      ),
    ),
    seconds: Math.round((Date.now() - started) / 1000),
  };
}
