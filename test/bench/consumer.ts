import { performance } from 'node:perf_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { round } from '../../infra/demo/stats.js';
import { type EventEnvelope, InboxEngine, withInbox } from '../../lib/consumer/index.js';
import type { EmulatorClientConfig } from '../../lib/testing/emulator/start.js';
import { add } from '../../lib/transaction/update-operations.js';
import { envelope, sqsEventOf, sqsMessage } from '../helpers/inbox.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { createStreamTable } from '../helpers/table.js';
import { meteredClient } from './metered-client.js';

const EVENTS = 2_000;
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
 *   one conditional write per event.
 * Calls by operation and capacity per event, SQS calls per event, events per second.
 */
export async function benchConsumer(config: EmulatorClientConfig) {
  const setup = new DynamoDBClient(config);
  const table = await createStreamTable(setup, 'bench-consumer');
  try {
    const run = async (
      mode: 'batch read' | 'read per message' | 'batch read, default logs' | 'synchronize alone',
    ) => {
      const { client, meter, reset } = meteredClient(config);
      const sqs = quietSqs();
      const consumerName = `bench-${mode.replace(/[ ,]+/g, '-')}`;
      const logs = mode === 'batch read, default logs';
      const engine = new InboxEngine({
        consumerName,
        tableName: table.tableName,
        client,
        sqsClient: sqs.sqs,
        // The default: a Powertools Logger at INFO (a line per event) and EMF metrics.
        ...(logs
          ? {
              logger: new Logger({ serviceName: consumerName, logLevel: 'INFO' }),
              metrics: new Metrics({ namespace: 'bench', serviceName: consumerName }),
            }
          : { logger: silent(), metrics: silent() }),
        ...(mode === 'synchronize alone' ? { synchronizeWithoutInbox: true } : {}),
      });
      if (mode === 'read per message') engine.prefetch = async () => new Map();
      const handler = withInbox<{ userId: string }>(async (event, { tx }) => {
        if (mode === 'synchronize alone')
          tx.synchronize(
            { pk: `SNAPSHOT#${event.aggregate.id}`, sk: 'SNAPSHOT', userId: event.payload.userId },
            { version: event.aggregate.version },
          );
        else tx.update({ pk: `USER#${event.payload.userId}`, sk: 'USER' }, { score: add(1) });
      }, engine);
      const events: EventEnvelope<{ userId: string }>[] = Array.from({ length: EVENTS }, (_, i) =>
        envelope({
          type: 'Scored',
          aggregate: { type: 'Score', id: `s-${mode}-${i}`, version: 1 },
          payload: { userId: `u${i % USERS}` },
        }),
      );
      reset();
      // What the logs write is counted, not printed.
      let logBytes = 0;
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string | Uint8Array) => {
        logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        return true;
      }) as typeof process.stdout.write;
      const started = performance.now();
      const cpu = process.cpuUsage();
      try {
        for (let i = 0; i < EVENTS; i += BATCH) {
          const batch = events.slice(i, i + BATCH).map((e) => sqsMessage(e));
          const response = await handler(sqsEventOf(batch), lambdaContext());
          if (response?.batchItemFailures.length) throw new Error(`${mode}: a message failed`);
        }
      } finally {
        process.stdout.write = write;
      }
      const used = process.cpuUsage(cpu);
      const seconds = (performance.now() - started) / 1000;
      const perEvent = (n: number) => round(n / EVENTS, 3);
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
        eventsPerSecond: Math.round(EVENTS / seconds),
        // This process's CPU, the SDK's included; the engine's own time is elsewhere.
        cpuUsPerEvent: Math.round((used.user + used.system) / EVENTS),
        logBytesPerEvent: Math.round(logBytes / EVENTS),
      };
    };
    const baseline = await run('read per message');
    const eventbox = await run('batch read');
    const withLogs = await run('batch read, default logs');
    const synchronizeAlone = await run('synchronize alone');
    return {
      events: EVENTS,
      batch: BATCH,
      eventbox,
      baseline,
      withLogs,
      synchronizeAlone,
      speedup: round(eventbox.eventsPerSecond / baseline.eventsPerSecond, 2),
      loggingCpuUsPerEvent: withLogs.cpuUsPerEvent - eventbox.cpuUsPerEvent,
    };
  } finally {
    await table.drop();
  }
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
