import type { SQSBatchResponse } from 'aws-lambda';
import {
  type BatchProcessor,
  DeliveryDefaults,
  type DeliveryLambdaHandler,
  deadlineOf,
  deliverSqsBatch,
} from '../delivery/batch.js';
import { messagesOf } from '../delivery/messages.js';
import { Settler } from '../delivery/settle.js';
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
export function createJobRunner(options: JobRunnerOptions | JobRunner): DeliveryLambdaHandler {
  const runner = options instanceof JobRunner ? options : new JobRunner(options);
  const settler = new Settler(runner);
  const concurrency = runner.options.concurrency ?? DeliveryDefaults.concurrency;
  const processor: BatchProcessor = {
    process: (message, _prefetched, invocation) => runner.process(message, invocation),
    // On its last delivery a message's first write hands the job to a new message, so it
    // starts even near the deadline: the job goes on either way.
    startsNearDeadline: (message) => runner.isLastDelivery(message),
  };
  return async function jobRunnerHandler(event, context): Promise<SQSBatchResponse> {
    try {
      return await deliverSqsBatch(processor, settler, messagesOf(event), {
        concurrency,
        deadline: deadlineOf(context, DeliveryDefaults.deadlineMarginMs),
      });
    } finally {
      runner.metrics.publishStoredMetrics();
    }
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
