import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { round, summarize } from '../../infra/demo/stats.js';
import { clientConfigFor, type DynamoDbEngine, type Emulator } from '../../lib/emulator/start.js';
import { EventBox } from '../../lib/producer/event-box.js';
import { createTableAt } from './tables.js';

const WARMUP = 30;
const ROUNDS = 300;

/**
 * Commit latency of an entity write with its outbox item versus the same write alone,
 * interleaved so drift in the engine affects both equally.
 */
export async function benchCommitLatency(
  engine: DynamoDbEngine,
  emulator: Pick<Emulator, 'clientConfig'>,
) {
  const table = await createTableAt(clientConfigFor(emulator, engine.endpoint));
  const box = new EventBox({ tableName: table.tableName, source: 'bench', client: table.client });
  const withOutbox: number[] = [];
  const alone: number[] = [];
  try {
    for (let i = 0; i < WARMUP + ROUNDS; i++) {
      const id = `o-${i}`;
      const a = box
        .transaction()
        .put({ pk: `A#${id}`, sk: 'ORDER', total: i }, { expectedVersion: 0 });
      let start = performance.now();
      await a.commit();
      const aloneMs = performance.now() - start;

      const b = box
        .transaction()
        .put({ pk: `B#${id}`, sk: 'ORDER', total: i }, { expectedVersion: 0 });
      b.publish({
        type: 'OrderPlaced',
        aggregate: { type: 'Order', id, version: 1 },
        payload: { total: i },
      });
      start = performance.now();
      await b.commit();
      const outboxMs = performance.now() - start;
      if (i >= WARMUP) {
        alone.push(aloneMs);
        withOutbox.push(outboxMs);
      }
    }
  } finally {
    await table.drop();
  }
  const a = summarize(alone);
  const b = summarize(withOutbox);
  return {
    engine: engine.name,
    rounds: ROUNDS,
    writeAloneMs: { median: round(a.median), p99: round(a.p99) },
    writeWithOutboxMs: { median: round(b.median), p99: round(b.p99) },
    ratio: { median: round(b.median / a.median), p99: round(b.p99 / a.p99) },
  };
}

/**
 * CPU time the library spends per commit, with no network: building the transaction
 * (validation, envelope, serialization, size checks) and, separately, that plus the SDK's
 * marshalling and request serialization, stopped just before the HTTP send.
 */
export async function benchCommitCpu() {
  const iterations = 20_000;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  client.middlewareStack.add(() => async () => ({ output: { $metadata: {} }, response: {} }), {
    step: 'finalizeRequest',
    name: 'shortCircuit',
    priority: 'low',
  });
  const box = new EventBox({ tableName: 'bench', source: 'bench', client });
  const build = (i: number) => {
    const tx = box
      .transaction()
      .put({ pk: `ORDER#${i}`, sk: 'ORDER', total: i, status: 'placed' }, { expectedVersion: 0 });
    tx.publish({
      type: 'OrderPlaced',
      aggregate: { type: 'Order', id: String(i), version: 1 },
      payload: { total: i, lines: [{ sku: 'A', qty: 2 }] },
    });
    return tx;
  };
  for (let i = 0; i < 2_000; i++) build(i).params();

  let cpu = process.cpuUsage();
  for (let i = 0; i < iterations; i++) build(i).params();
  const buildUs = process.cpuUsage(cpu);

  cpu = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await build(i).commit();
  const commitUs = process.cpuUsage(cpu);

  const perCommit = (u: NodeJS.CpuUsage) => round((u.user + u.system) / iterations, 1);
  return {
    iterations,
    libraryCpuUsPerCommit: perCommit(buildUs),
    libraryAndSdkCpuUsPerCommit: perCommit(commitUs),
  };
}
