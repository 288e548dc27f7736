import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { round } from '../../infra/demo/stats.js';
import { type EventEnvelope, InboxEngine, withInbox } from '../../lib/consumer/index.js';
import type { EmulatorClientConfig } from '../../lib/emulator/start.js';
import { add } from '../../lib/transaction/update-operations.js';
import { envelope, sqsEventOf, sqsMessage } from '../helpers/inbox.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { createStreamTable } from '../helpers/table.js';
import { meteredClient } from './metered-client.js';
import { createIdempotencyTable, powertoolsHandler } from './powertools-peer.js';

const EVENTS = 2_000;
/** Events each mode handles first, unmeasured: JIT, connections and the engine warm up. */
const WARMUP_EVENTS = 200;
/** After the measured run, every this-many-th batch is delivered again. */
const DUPLICATE_EVERY = 5;
const BATCH = 10;
const USERS = 200;

/** An SQS client that answers every call at once: the happy path makes none. */
function quietSqs() {
  const sqs = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  let calls = 0;
  sqs.send = (async () => {
    calls++;
    return {};
  }) as never;
  return { sqs, calls: () => calls };
}

const MODES = [
  'powertools',
  'read per message',
  'batch read',
  'batch read, default logs',
  'synchronize alone',
] as const;
type Mode = (typeof MODES)[number];

/**
 * The consumer on its happy path, 2,000 events in SQS batches of 10 with the same business
 * write (an atomic add to the user's score, no read, so every DynamoDB call is Eventbox's),
 * in one run on one engine:
 * - Eventbox: one consistent BatchGetItem of the batch's inbox records, then one
 *   TransactWriteItems per event (the inbox record and the write);
 * - the baseline, as the consumer was: a consistent GetItem of the inbox record per event,
 *   then the same transaction.
 * - Eventbox again with its default logs and metrics (Powertools, a line per event), whose
 *   cost is the difference in CPU per event;
 * - an entity synchronizer (one `synchronize` per event) with `synchronizeWithoutInbox`:
 *   one conditional write per event;
 * - the field's standard, Powertools idempotency + batch, with the same add.
 * Each mode first warms up on 200 events of its own. After the measured run, every fifth
 * batch is delivered again, and the writes are checked against applying every event once. Calls by operation and capacity per event, SQS calls per event, events per second.
 */
export async function benchConsumer(config: EmulatorClientConfig) {
  const setup = new DynamoDBClient(config);
  const table = await createStreamTable(setup, 'bench-consumer');
  const idempotency = await createIdempotencyTable(setup, 'bench-idempotency');
  try {
    const run = async (mode: Mode, count = EVENTS, tag = '') => {
      const { client, meter, reset } = meteredClient(config);
      const sqs = quietSqs();
      const consumerName = `bench-${mode.replace(/[ ,]+/g, '-')}${tag}`;
      const userKey = (userId: string) => `USER#${consumerName}-${userId}`;
      const handler =
        mode === 'powertools'
          ? powertoolsHandler({
              client,
              idempotencyTable: idempotency.tableName,
              businessTable: table.tableName,
              userKey,
            })
          : eventboxHandler(mode, {
              consumerName,
              tableName: table.tableName,
              client,
              sqsClient: sqs.sqs,
              userKey,
            });
      const events: EventEnvelope<{ userId: string }>[] = Array.from({ length: count }, (_, i) =>
        envelope({
          type: 'Scored',
          aggregate: { type: 'Score', id: `s-${consumerName}-${i}`, version: 1 },
          payload: { userId: `u${i % USERS}` },
        }),
      );
      reset();
      const started = performance.now();
      const cpu = process.cpuUsage();
      const logBytes = await stdoutBytesOf(async () => {
        for (let i = 0; i < count; i += BATCH) await deliver(events.slice(i, i + BATCH));
      });
      const used = process.cpuUsage(cpu);
      const seconds = (performance.now() - started) / 1000;
      const perEvent = (n: number) => round(n / count, 3);
      const calls = Object.values(meter.calls).reduce((a, b) => a + b, 0);
      return {
        mode,
        dynamoDbCallsPerEvent: perEvent(calls),
        byOperation: Object.fromEntries(
          Object.entries(meter.calls).map(([op, n]) => [op, perEvent(n)]),
        ),
        wcuPerEvent: perEvent(meter.wcu),
        rcuPerEvent: perEvent(meter.rcu),
        sqsCallsPerEvent: perEvent(sqs.calls()),
        eventsPerSecond: Math.round(count / seconds),
        // This process's CPU, the SDK's included; the engine's own time is elsewhere.
        cpuUsPerEvent: Math.round((used.user + used.system) / count),
        logBytesPerEvent: Math.round(logBytes / count),
        correct: await correctWithDuplicates(),
      };

      /** Delivers one batch as SQS would (new message ids each time). */
      async function deliver(batch: readonly EventEnvelope[]) {
        const messages = batch.map((e) => sqsMessage(e));
        const response = await handler(sqsEventOf(messages), lambdaContext());
        if (response?.batchItemFailures.length) throw new Error(`${mode}: a message failed`);
      }

      /** Delivers some batches again, unmeasured, then checks each event applied once. */
      async function correctWithDuplicates() {
        await stdoutBytesOf(async () => {
          for (let i = 0; i < count; i += BATCH * DUPLICATE_EVERY)
            await deliver(events.slice(i, i + BATCH));
        });
        return eachAppliedOnce(setup, table.tableName, mode, events, userKey);
      }
    };
    for (const mode of MODES) await run(mode, WARMUP_EVENTS, '-warmup');
    const powertools = await run('powertools');
    const baseline = await run('read per message');
    const eventbox = await run('batch read');
    const withLogs = await run('batch read, default logs');
    const synchronizeAlone = await run('synchronize alone');
    return {
      events: EVENTS,
      batch: BATCH,
      eventbox,
      powertools,
      baseline,
      withLogs,
      synchronizeAlone,
      speedupOverPowertools: round(eventbox.eventsPerSecond / powertools.eventsPerSecond, 2),
      speedupOverReadPerMessage: round(eventbox.eventsPerSecond / baseline.eventsPerSecond, 2),
      loggingCpuUsPerEvent: withLogs.cpuUsPerEvent - eventbox.cpuUsPerEvent,
    };
  } finally {
    await table.drop();
    await idempotency.drop();
  }
}

/** Eventbox's consumer in one of its modes, the same atomic add as the Powertools peer. */
function eventboxHandler(
  mode: Exclude<Mode, 'powertools'>,
  options: {
    consumerName: string;
    tableName: string;
    client: DynamoDBClient;
    sqsClient: SQSClient;
    userKey: (userId: string) => string;
  },
) {
  const { userKey, ...engineOptions } = options;
  const logs = mode === 'batch read, default logs';
  const engine = new InboxEngine({
    ...engineOptions,
    // The default: a Powertools Logger at INFO (a line per event) and EMF metrics.
    ...(logs
      ? {
          logger: new Logger({ serviceName: options.consumerName, logLevel: 'INFO' }),
          metrics: new Metrics({ namespace: 'bench', serviceName: options.consumerName }),
        }
      : { logger: silent(), metrics: silent() }),
    ...(mode === 'synchronize alone' ? { synchronizeWithoutInbox: true } : {}),
  });
  if (mode === 'read per message') engine.prefetch = async () => new Map();
  return withInbox<{ userId: string }>(async (event, { tx }) => {
    if (mode === 'synchronize alone')
      tx.synchronize(
        { pk: `SNAPSHOT#${event.aggregate.id}`, sk: 'SNAPSHOT', userId: event.payload.userId },
        { version: event.aggregate.version },
      );
    else tx.update({ pk: userKey(event.payload.userId), sk: 'USER' }, { score: add(1) });
  }, engine);
}

/** Whether the run's writes are exactly what applying each event once gives. */
async function eachAppliedOnce(
  client: DynamoDBClient,
  tableName: string,
  mode: Mode,
  events: readonly EventEnvelope<{ userId: string }>[],
  userKey: (userId: string) => string,
) {
  const docs = DynamoDBDocumentClient.from(client);
  const get = async (pk: string, sk: string) =>
    (await docs.send(new GetCommand({ TableName: tableName, Key: { pk, sk } }))).Item;
  if (mode === 'synchronize alone') {
    for (const e of events)
      if ((await get(`SNAPSHOT#${e.aggregate.id}`, 'SNAPSHOT'))?.version !== 1) return false;
    return true;
  }
  const expected = new Map<string, number>();
  for (const e of events) expected.set(e.payload.userId, (expected.get(e.payload.userId) ?? 0) + 1);
  for (const [userId, score] of expected)
    if ((await get(userKey(userId), 'USER'))?.score !== score) return false;
  return true;
}

/** Runs `work` with what it writes to stdout (logs, metrics) counted in bytes, not printed. */
async function stdoutBytesOf(work: () => Promise<void>): Promise<number> {
  let bytes = 0;
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    return true;
  }) as typeof process.stdout.write;
  try {
    await work();
  } finally {
    process.stdout.write = write;
  }
  return bytes;
}

/** A logger and metrics that write nothing, in both modes alike. */
function silent() {
  const sink = {
    info() {},
    warn() {},
    error() {},
    debug() {},
    addMetric() {},
    publishStoredMetrics() {},
  };
  return sink as never;
}
