import { parseArgs } from 'node:util';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { JobClient } from '../jobs/client.js';
import { METRICS_NAMESPACE } from '../shared/metrics-namespace.js';
import { deploymentOf } from './deployment.js';
import { table } from './format.js';
import type { CommandIo } from './io.js';
import { type Figure, figure, show } from './metrics.js';
import { stackResources, targetOptions } from './target.js';

export const statusUsage = `eventbox status

How a deployment is doing: each relay's iterator age and errors, every dead-letter queue's
depth, each consumer's queue depth, oldest message age, "not yet" and conflict retries,
and the stalled jobs. Figures CloudWatch has no data points for (an emulator, a quiet
period) are said to be unavailable, never shown as 0.

  --stack NAME   the deployed stack (or EVENTBOX_STACK)
  --json         print one JSON object`;

async function depth(sqs: SQSClient, queueUrl: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

const queueName = (url: string) => url.split('/').pop() ?? url;

export async function statusCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: targetOptions });
  const deployment = await deploymentOf(await stackResources(values));
  const sqs = new SQSClient({});
  const cloudwatch = new CloudWatchClient({});
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
      deadLetters: (await depth(sqs, r.deadLetterQueueUrl)).visible,
    })),
  );
  const consumers = await Promise.all(
    deployment.consumers.map(async (c) => ({
      name: c.name,
      queue: await depth(sqs, c.queueUrl),
      oldestMessageSeconds: await figure(cloudwatch, {
        namespace: 'AWS/SQS',
        name: 'ApproximateAgeOfOldestMessage',
        dimensions: [{ Name: 'QueueName', Value: queueName(c.queueUrl) }],
        statistic: 'Maximum',
      }),
      deadLetters: (await depth(sqs, c.deadLetterQueueUrl)).visible,
      notYetRetries: await eventbox('NotYetRetries', c.name),
      conflictRetries: await eventbox('ConflictRetries', c.name),
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

  if (values.json) {
    io.out(JSON.stringify({ relays, consumers, jobs }));
    return 0;
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
  return 0;
}
