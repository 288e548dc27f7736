import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../../lib/jobs/definition.js';
import { JobAlreadyStartedError } from '../../../lib/jobs/errors.js';
import { startJob } from '../../../lib/jobs/start.js';
import { ConditionFailedError } from '../../../lib/transaction/errors.js';
import { Transaction } from '../../../lib/transaction/transaction.js';
import { testSettings } from '../../helpers/settings.js';

const settings = testSettings();
const ddb = mockClient(settings.client);
const job = defineJob('fulfil', { input: z.object({ orderId: z.string() }) }).step(
  'reserve',
  () => 'ok',
);

function canceledAt(index: number, length: number): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: Array.from({ length }, (_, i) => ({
      Code: i === index ? 'ConditionalCheckFailed' : 'None',
    })),
  });
}

describe('Function: startJob', () => {
  beforeEach(() => {
    ddb.reset();
  });

  it("reports a job id that exists as the jobs module's JobAlreadyStartedError, with the id", async () => {
    const tx = new Transaction(settings).put({ pk: 'ORDER#1', sk: 'ORDER' });
    await startJob(tx, job, { orderId: '1' }, { jobId: 'fulfil-1', tableName: 'jobs' });
    ddb.on(TransactWriteCommand).rejects(canceledAt(1, 3));

    const error = await tx.commit().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(JobAlreadyStartedError);
    expect(error).toMatchObject({
      jobId: 'fulfil-1',
      action: { kind: 'startJob', tableName: 'jobs', index: 1 },
      message: expect.stringContaining('Job fulfil-1 was started before'),
    });
  });

  it("leaves a failure of the caller's own action to the transaction's mapping", async () => {
    const tx = new Transaction(settings).check(
      { pk: 'ORDER#1', sk: 'ORDER' },
      { attr: 'open', exists: true },
    );
    await startJob(tx, job, { orderId: '1' }, { jobId: 'fulfil-1', tableName: 'jobs' });
    ddb.on(TransactWriteCommand).rejects(canceledAt(0, 3));

    const error = await tx.commit().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConditionFailedError);
    expect(error).not.toBeInstanceOf(JobAlreadyStartedError);
  });
});
