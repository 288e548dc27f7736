import { describe, expect, it } from 'vitest';
import { jobRunnerOptionsFromEnvironment } from '../../../lib/jobs/handler.js';

describe('Function: jobRunnerOptionsFromEnvironment', () => {
  it('reads what the JobRunner construct sets, the queue URL, maxReceiveCount and the lease of attempts included', () => {
    expect(
      jobRunnerOptionsFromEnvironment({
        EVENTBOX_TABLE_NAME: 'jobs',
        EVENTBOX_CONSUMER_NAME: 'fulfilment',
        EVENTBOX_DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
        EVENTBOX_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/jobs',
        EVENTBOX_MAX_RECEIVE_COUNT: '100',
        EVENTBOX_ATTEMPT_LEASE_SECONDS: '60',
      }),
    ).toStrictEqual({
      attemptLeaseSeconds: 60,
      tableName: 'jobs',
      runnerName: 'fulfilment',
      deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
      maxReceiveCount: 100,
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/jobs',
    });
  });
});
