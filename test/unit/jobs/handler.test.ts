import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobRunner, defineJob, JobRunner } from '../../../lib/jobs/index.js';
import { sqsEventOf, sqsRecordOf } from '../../../lib/testing/builders.js';
import { MemoryJobStore } from '../../../lib/testing/memory-job-store.js';

const job = defineJob('near-deadline', { input: z.object({}) }).step('only', () => 'done');

/** An invocation with a minute left when it starts, and a second once it handles messages. */
function endingContext(): Context {
  let calls = 0;
  return { getRemainingTimeInMillis: () => (calls++ === 0 ? 60_000 : 1_000) } as Context;
}

describe('Function: createJobRunner', () => {
  it('near its deadline returns a message unstarted, but starts one on its last delivery, which hands the job on', async () => {
    // Prepare
    const sqs = new SQSClient({ region: 'us-east-1' });
    mockClient(sqs).onAnyCommand().resolves({}).on(GetQueueUrlCommand).resolves({ QueueUrl: 'q' });
    const store = new MemoryJobStore();
    const runner = new JobRunner({
      jobs: [job],
      tableName: store.tableName,
      store,
      maxReceiveCount: 3,
      sqsClient: sqs,
    });
    const early = await store.start(job, {}, 'early');
    const last = await store.start(job, {}, 'last');
    const earlyRecord = sqsRecordOf(early, { receiveCount: 1 });
    const lastRecord = sqsRecordOf(last, { receiveCount: 3 });

    // Act
    const response = await createJobRunner(runner)(
      sqsEventOf([earlyRecord, lastRecord]),
      endingContext(),
    );

    // Assess
    expect(response?.batchItemFailures).toEqual([{ itemIdentifier: earlyRecord.messageId }]);
    expect((await store.read('early'))?.job.jobState).toBe('pending');
    expect((await store.read('last'))?.job.jobState).toBe('succeeded');
    expect(store.published.filter((e) => e.aggregate.type === 'JobHandOff')).toHaveLength(1);
  });
});
