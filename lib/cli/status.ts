import { parseArgs } from 'node:util';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConsumerMetrics } from '../consumer/environment.js';
import { JobClient } from '../jobs/client.js';
import { METRICS_NAMESPACE } from '../shared/metrics-namespace.js';
import { deploymentOf, unrelayedTables } from './deployment.js';
import { table } from './format.js';
import type { CommandIo } from './io.js';
import { type Figure, figure, show } from './metrics.js';
import { queueDepth } from './queue-depth.js';
import { relayedTables, unrelayedTable } from './relay-health.js';
import { operatorClientConfig, stackResources, targetOptions } from './target.js';

export const statusUsage = `eventbox status

How a deployment is doing: each relay's iterator age and errors, and for each table it
reads whether it keeps up (its stream mapping's state, the table's newest outbox item, the
relay's log since); every dead-letter queue's depth, each consumer's queue depth, oldest
message age, "not yet" and conflict retries, and the stalled jobs. Figures CloudWatch has
no data points for (an emulator, a quiet period) are said to be unavailable, never shown
as 0; whether a relay is stopped or behind is read from the resources, on any endpoint.
Exits 1 and lists the problems when a relay is stopped or behind, a dead-letter queue
holds letters, or a job is stalled.

  --stack NAME   the deployed stack (or EVENTBOX_STACK)
  --json         print one JSON object`;

const queueName = (url: string) => url.split('/').pop() ?? url;

export async function statusCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: targetOptions });
  const deployment = await deploymentOf(await stackResources(values), { mappings: true });
  const sqs = new SQSClient(operatorClientConfig());
  const cloudwatch = new CloudWatchClient(operatorClientConfig());
  const resources = {
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient(operatorClientConfig())),
    logs: new CloudWatchLogsClient(operatorClientConfig()),
  };
  const lambdaMetric = (name: string, fn: string, statistic: 'Sum' | 'Maximum') =>
    figure(cloudwatch, {
      namespace: 'AWS/Lambda',
      name,
      dimensions: [{ Name: 'FunctionName', Value: fn }],
      statistic,
    });
  const eventbox = (name: string, service: string) =>
    figure(cloudwatch, {
      namespace: METRICS_NAMESPACE,
      name,
      dimensions: [{ Name: 'service', Value: service }],
      statistic: 'Sum',
    });

  const relays = await Promise.all(
    deployment.relays.map(async (r) => ({
      name: r.name,
      iteratorAgeMs: await lambdaMetric('IteratorAge', r.functionName, 'Maximum'),
      errors: await lambdaMetric('Errors', r.functionName, 'Sum'),
      deadLetters: (await queueDepth(sqs, r.deadLetterQueueUrl)).visible,
      tables: await relayedTables(resources, r),
    })),
  );
  const unrelayed = unrelayedTables(deployment).map(unrelayedTable);
  const consumers = await Promise.all(
    deployment.consumers.map(async (c) => ({
      name: c.name,
      queue: await queueDepth(sqs, c.queueUrl),
      oldestMessageSeconds: await figure(cloudwatch, {
        namespace: 'AWS/SQS',
        name: 'ApproximateAgeOfOldestMessage',
        dimensions: [{ Name: 'QueueName', Value: queueName(c.queueUrl) }],
        statistic: 'Maximum',
      }),
      deadLetters: (await queueDepth(sqs, c.deadLetterQueueUrl)).visible,
      notYetRetries: await eventbox(ConsumerMetrics.notYetRetries, c.name),
      conflictRetries: await eventbox(ConsumerMetrics.conflictRetries, c.name),
    })),
  );
  const jobs = await Promise.all(
    deployment.jobsTables.map(async (j) => ({
      runner: j.runner,
      stalled: (
        await new JobClient({ tableName: j.tableName }).list({ state: 'stalled', limit: 1000 })
      ).length,
    })),
  );

  const problems = [
    ...[...relays.flatMap((r) => r.tables), ...unrelayed].flatMap((t) =>
      t.problem ? [t.problem] : [],
    ),
    ...[...relays, ...consumers]
      .filter((q) => q.deadLetters > 0)
      .map((q) => `${q.name} has ${q.deadLetters} dead letters: eventbox dlq list`),
    ...jobs
      .filter((j) => j.stalled > 0)
      .map((j) => `${j.runner} has ${j.stalled} stalled jobs: eventbox jobs list --state stalled`),
  ];
  const code = problems.length > 0 ? 1 : 0;
  if (values.json) {
    io.out(JSON.stringify({ relays, unrelayed, consumers, jobs, problems }));
    return code;
  }
  const f = (x: Figure, unit = '') => show(x, unit);
  io.out(
    table(
      ['RELAY', 'ITERATOR AGE (15 MIN MAX)', 'ERRORS (15 MIN)', 'DEAD LETTERS'],
      relays.map((r) => [r.name, f(r.iteratorAgeMs, ' ms'), f(r.errors), String(r.deadLetters)]),
    ),
  );
  io.out('');
  io.out(
    table(
      ['RELAY', 'TABLE', 'STREAM MAPPING', 'NEWEST OUTBOX ITEM', 'STATE'],
      [
        ...relays.flatMap((r) => r.tables.map((t) => [r.name, t] as const)),
        ...unrelayed.map((t) => ['-', t] as const),
      ].map(([relay, t]) => [
        relay,
        t.tableName,
        t.mapping,
        t.newestOutboxItemSeconds === undefined ? '-' : `${t.newestOutboxItemSeconds} s ago`,
        t.state,
      ]),
    ),
  );
  io.out('');
  io.out(
    table(
      [
        'CONSUMER',
        'QUEUE (WAITING/IN FLIGHT)',
        'OLDEST MESSAGE',
        'DEAD LETTERS',
        '"NOT YET" (15 MIN)',
        'CONFLICTS (15 MIN)',
      ],
      consumers.map((c) => [
        c.name,
        `${c.queue.visible}/${c.queue.inFlight}`,
        f(c.oldestMessageSeconds, ' s'),
        String(c.deadLetters),
        f(c.notYetRetries),
        f(c.conflictRetries),
      ]),
    ),
  );
  if (jobs.length > 0) {
    io.out('');
    io.out(
      table(
        ['JOB RUNNER', 'STALLED JOBS'],
        jobs.map((j) => [j.runner, String(j.stalled)]),
      ),
    );
  }
  if (problems.length > 0) {
    io.out('');
    io.out('Problems:');
    for (const problem of problems) io.out(`  ${problem}`);
  }
  return code;
}
