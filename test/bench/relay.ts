import { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { DynamoDBRecord } from 'aws-lambda';
import { round, summarize } from '../../infra/demo/stats.js';
import { createRelayHandler } from '../../lib/relay/handler.js';
import { RelayDefaults } from '../../lib/relay/options.js';
import { lambdaContext } from '../helpers/lambda-context.js';
import { requestText } from '../helpers/request-body.js';
import { outboxRecord } from '../helpers/stream-records.js';

const CALL_DELAY_MS = 30;
const WARMUP_RUNS = 3;
const MEASURED_RUNS = 7;

/**
 * An EventBridge client whose HTTP layer answers every PutEvents after a fixed delay,
 * so the SDK still serializes, signs and parses as it would against the service.
 */
function delayedEventBridge(delayMs: number) {
  const counter = { calls: 0 };
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        counter.calls++;
        const entries = (JSON.parse(requestText(request.body)) as { Entries: unknown[] }).Entries;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        const body = JSON.stringify({
          FailedEntryCount: 0,
          Entries: entries.map((_, i) => ({ EventId: `e-${counter.calls}-${i}` })),
        });
        return {
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: Readable.from([Buffer.from(body)]),
          },
        };
      },
    } as never,
  });
  return { client, counter };
}

/** Records of `aggregates` aggregates, round-robin, each aggregate's versions in order. */
function records(count: number, aggregates: number): DynamoDBRecord[] {
  const versions = new Map<number, number>();
  return Array.from({ length: count }, (_, i) => {
    const aggregate = i % aggregates;
    const version = (versions.get(aggregate) ?? 0) + 1;
    versions.set(aggregate, version);
    return outboxRecord(`agg-${aggregate}`, version, {
      i,
      note: 'a typical small payload with a few fields',
    });
  });
}

async function runRelay(batch: DynamoDBRecord[], concurrency: number) {
  const { client, counter } = delayedEventBridge(CALL_DELAY_MS);
  const relay = createRelayHandler({
    eventBusName: 'bench',
    eventBridgeClient: client,
    concurrency,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'bench', serviceName: 'bench' }),
  });
  for (let i = 0; i < WARMUP_RUNS; i++) await relay({ Records: batch }, lambdaContext(900_000));
  const times: number[] = [];
  counter.calls = 0;
  for (let i = 0; i < MEASURED_RUNS; i++) {
    const start = performance.now();
    const response = await relay({ Records: batch }, lambdaContext(900_000));
    times.push(performance.now() - start);
    if (response.batchItemFailures.length > 0) throw new Error('bench relay reported failures');
  }
  return { ms: summarize(times).median, calls: counter.calls / MEASURED_RUNS };
}

const entryOf = (record: DynamoDBRecord) => {
  const image = record.dynamodb?.NewImage;
  return {
    EventBusName: 'bench',
    Source: image?.source?.S,
    DetailType: image?.eventType?.S,
    Detail: image?.detail?.S,
  };
};

/**
 * A baseline: `perCall` records per PutEvents call, one call in flight at a time. With 1,
 * the one-entry-per-call relay; with 10, what EventBridge Pipes does from a DynamoDB
 * stream to a bus (at most 10 records a batch, batches of a shard one after another).
 */
async function runSequential(batch: DynamoDBRecord[], perCall: number) {
  const { client, counter } = delayedEventBridge(CALL_DELAY_MS);
  const start = performance.now();
  for (let i = 0; i < batch.length; i += perCall) {
    await client.send(new PutEventsCommand({ Entries: batch.slice(i, i + perCall).map(entryOf) }));
  }
  return { ms: performance.now() - start, calls: counter.calls };
}

export async function benchRelayThroughput() {
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const results = [];
  try {
    for (const size of [100, 1_000]) {
      for (const aggregates of [size, 10]) {
        const batch = records(size, aggregates);
        const relay = await runRelay(batch, RelayDefaults.concurrency);
        const naiveSample = batch.slice(0, 100);
        const naive = await runSequential(naiveSample, 1);
        const pipes = await runSequential(batch, 10);
        const pipesEventsPerSecond = (size / pipes.ms) * 1000;
        results.push({
          batchSize: size,
          aggregates,
          concurrency: RelayDefaults.concurrency,
          callDelayMs: CALL_DELAY_MS,
          relay: {
            eventsPerSecond: round((size / relay.ms) * 1000, 0),
            callsPerEvent: round(relay.calls / size, 3),
            medianBatchMs: round(relay.ms, 1),
          },
          naive: {
            eventsPerSecond: round((naiveSample.length / naive.ms) * 1000, 1),
            callsPerEvent: round(naive.calls / naiveSample.length, 3),
            measuredOn: naiveSample.length,
          },
          pipesLike: {
            eventsPerSecond: round(pipesEventsPerSecond, 0),
            callsPerEvent: round(pipes.calls / size, 3),
          },
          relayOverPipesLike: round(((size / relay.ms) * 1000) / pipesEventsPerSecond, 1),
        });
      }
    }
  } finally {
    if (previous === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
  return results;
}
