import type { SQSBatchResponse } from 'aws-lambda';
import { deadlineOf, pool, returnedUnstarted } from '../consumer/batch.js';
import type { Outcome } from '../consumer/engine.js';
import { messagesOf } from '../consumer/messages.js';
import { InboxDefaults } from '../consumer/options.js';
import { Settler } from '../consumer/settle.js';
import type { InboxLambdaHandler } from '../consumer/with-inbox.js';
import { InvalidOptionsError } from '../shared/errors.js';
import { JobRunnerEnvironment } from './environment.js';
import { JobRunner, type JobRunnerOptions } from './runner.js';

/**
 * The job runner's Lambda handler, for the SQS queue its construct feeds with job
 * messages. Answers with `batchItemFailures`: a message whose step or task failed comes
 * back after its backoff, one that is not a job message goes to the dead-letter queue with
 * its reason.
 *
 * @example
 * export const handler = createJobRunner({ ...jobRunnerOptionsFromEnvironment(), jobs: [fulfilOrder] });
 */
export function createJobRunner(options: JobRunnerOptions | JobRunner): InboxLambdaHandler {
  const runner = options instanceof JobRunner ? options : new JobRunner(options);
  const settler = new Settler(runner);
  const concurrency = runner.options.concurrency ?? 10;
  return async function jobRunnerHandler(event, context): Promise<SQSBatchResponse> {
    const messages = messagesOf(event);
    const failed = new Set<string>();
    const deadline = deadlineOf(context, InboxDefaults.deadlineMarginMs);
    try {
      await pool(messages, concurrency, async (message) => {
        // Near the deadline a message goes back unstarted, except on its last delivery:
        // its first write then hands the job to a new message, so it still goes on.
        const unstarted = runner.isLastDelivery(message)
          ? undefined
          : await returnedUnstarted(deadline, settler, message);
        if (unstarted) {
          if (unstarted === 'returned') failed.add(message.messageId);
          return;
        }
        // Attempts this invocation starts are its own until it ends at the latest.
        const remaining = context?.getRemainingTimeInMillis?.();
        const invocation = remaining === undefined ? {} : { deadline: Date.now() + remaining };
        const outcome: Outcome = await runner
          .process(message, invocation)
          .catch((error: unknown) => ({ status: 'failed', error }) as const);
        if (!(await settler.settle(message, outcome))) failed.add(message.messageId);
      });
    } finally {
      runner.metrics.publishStoredMetrics();
    }
    return {
      batchItemFailures: messages
        .filter((m) => failed.has(m.messageId))
        .map((m) => ({ itemIdentifier: m.messageId })),
    };
  };
}

/**
 * The runner options the JobRunner construct passes through the environment: the jobs
 * table, the step table, the runner's name, its dead-letter queue, its maxReceiveCount and
 * the lease of an attempt (the function's timeout).
 */
export function jobRunnerOptionsFromEnvironment(env: NodeJS.ProcessEnv = process.env) {
  // The runner is an EventBoxConsumer: the same variables as any consumer's.
  const tableName = env[JobRunnerEnvironment.tableName];
  if (!tableName)
    throw new InvalidOptionsError('job runner environment', [
      `${JobRunnerEnvironment.tableName} is not set`,
    ]);
  const runnerName = env[JobRunnerEnvironment.consumerName];
  const dlq = env[JobRunnerEnvironment.deadLetterQueueUrl];
  const maxReceiveCount = env[JobRunnerEnvironment.maxReceiveCount];
  const queueUrl = env[JobRunnerEnvironment.queueUrl];
  const stepTableName = env[JobRunnerEnvironment.stepTableName];
  const lease = Number(env[JobRunnerEnvironment.attemptLeaseSeconds]);
  return {
    ...(Number.isFinite(lease) && lease > 0 ? { attemptLeaseSeconds: lease } : {}),
    tableName,
    ...(stepTableName ? { stepTableName } : {}),
    ...(runnerName ? { runnerName } : {}),
    ...(dlq ? { deadLetterQueueUrl: dlq } : {}),
    ...(maxReceiveCount ? { maxReceiveCount: Number(maxReceiveCount) } : {}),
    ...(queueUrl ? { queueUrl } : {}),
  };
}
