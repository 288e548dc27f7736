import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventboxDirs } from '../../lib/emulator/paths.js';
import { clientConfigFor, startEmulator } from '../../lib/emulator/start.js';
import { benchBundles } from './bundles.js';
import { benchConsumer } from './consumer.js';
import { benchJobSteps, costPerMillionSteps } from './jobs.js';
import { benchCommitCpu, benchCommitLatency } from './producer.js';
import { benchRelayThroughput } from './relay.js';

/**
 * `npm run bench`: every benchmark in one run, printed as JSON and written to
 * .eventbox/bench/results.json. Numbers are measurements, never assertions.
 */
async function main(): Promise<void> {
  const results: Record<string, unknown> = {
    node: process.version,
    date: new Date().toISOString(),
  };
  results.bundles = await benchBundles();
  process.stderr.write(`bundles: ${JSON.stringify(results.bundles)}\n`);

  results.commitCpu = await benchCommitCpu();
  process.stderr.write(`commit CPU: ${JSON.stringify(results.commitCpu)}\n`);

  results.relayThroughput = await benchRelayThroughput();
  process.stderr.write(`relay throughput: ${JSON.stringify(results.relayThroughput)}\n`);

  const environment = await startEmulator({ dynamoDbLocal: true });
  try {
    const latency = [];
    for (const engine of environment.dynamoDbEngines) {
      const r = await benchCommitLatency(engine, environment);
      process.stderr.write(`commit latency on ${engine.name}: ${JSON.stringify(r)}\n`);
      latency.push(r);
    }
    results.commitLatency = latency;

    const local = environment.dynamoDbEngines.find((e) => e.name === 'dynamodb-local');
    const jobsEngine = clientConfigFor(
      environment,
      (local ?? environment.dynamoDbEngines[0])?.endpoint,
    );
    results.consumer = await benchConsumer(jobsEngine);
    process.stderr.write(`consumer: ${JSON.stringify(results.consumer)}\n`);

    const steps = await benchJobSteps(jobsEngine);
    results.jobSteps = { ...steps, costPerMillionSteps: costPerMillionSteps(steps) };
    process.stderr.write(`job steps: ${JSON.stringify(results.jobSteps)}\n`);
  } finally {
    await environment.stop();
  }

  const dir = join(eventboxDirs().home, 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
