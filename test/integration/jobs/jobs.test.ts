import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import {
  defineJob,
  InvalidJobInputError,
  JobAlreadyStartedError,
  JobClient,
  JobNotResumableError,
  startExecution,
  startJob,
} from '../../../lib/jobs/index.js';
import { EventBox } from '../../../lib/producer/event-box.js';
import { scanPrefix } from '../../../lib/testing/state.js';
import { VersionConflictError } from '../../../lib/transaction/errors.js';
import { add } from '../../../lib/transaction/update-operations.js';
import { clientConfig } from '../../helpers/aws.js';
import { Network } from '../../helpers/job-network.js';
import { createJobsTable } from '../../helpers/table.js';

/**
 * Jobs on every DynamoDB engine: started in a business transaction, run by the runner
 * from the messages the jobs table's outbox publishes, status readable throughout.
 */
describe.each(inject('eventbox').dynamoDbEngines)('Jobs on $name', ({ endpoint }) => {
  const config = clientConfig(endpoint);
  const client = new DynamoDBClient(config);
  let tableName: string;
  let drop: () => Promise<void>;
  let box: EventBox;
  let jobs: JobClient;

  beforeAll(async () => {
    ({ tableName, drop } = await createJobsTable(client));
    box = new EventBox({ tableName, source: 'shop', client });
    jobs = new JobClient({ tableName, client });
  });

  afterAll(async () => {
    await drop();
  });

  const counter = (pk: string) =>
    box.client
      .send(
        new GetCommand({ TableName: tableName, Key: { pk, sk: 'COUNT' }, ConsistentRead: true }),
      )
      .then((r) => r.Item?.count as number | undefined);

  let flaky = 0;
  const fulfil = defineJob('fulfil', {
    input: z.object({ orderId: z.string(), quantity: z.number().int().positive() }),
    maxAttempts: 3,
    backoff: { baseSeconds: 0, capSeconds: 0 },
  })
    .step('reserve', async ({ input, ctx }) => {
      ctx.tx.update({ pk: `STOCK#${input.orderId}`, sk: 'COUNT' }, { count: add(input.quantity) });
      return { reserved: input.quantity };
    })
    .parallel('notify', {
      tasks: {
        email: async ({ ctx }) => ({ key: ctx.idempotencyKey }),
        sms: async () => {
          if (flaky-- > 0) throw new Error('sms gateway down');
          return { sent: true };
        },
      },
      aggregate: ({ tasks }) =>
        tasks.email.state === 'succeeded' || tasks.sms.state === 'succeeded'
          ? {
              continue: {
                channels: Object.keys(tasks).filter((t) => tasks[t as 'sms'].state === 'succeeded'),
              },
            }
          : { retry: ['email', 'sms'].filter((t) => tasks[t as 'sms'].state === 'failed') },
      maxTaskAttempts: 2,
    })
    .step('ship', async ({ results, ctx }) => {
      ctx.tx.update({ pk: 'SHIPPED', sk: 'COUNT' }, { count: add(1) });
      return { units: results.reserve.reserved, channels: results.notify.channels };
    });

  const network = (random = Math.random) =>
    new Network(config, { jobs: [fulfil], tableName }, { random, maxCopies: 2 });

  it('starts with the transaction, reads as pending from the commit, and runs to succeeded', async () => {
    // Prepare
    const tx = box.transaction();
    tx.put({ pk: 'ORDER#o1', sk: 'ORDER', status: 'paid' }, { expectedVersion: 0 });
    await startJob(tx, fulfil, { orderId: 'o1', quantity: 2 }, { jobId: 'fulfil-o1', tableName });

    // Act
    await tx.commit();
    const pending = await jobs.status('fulfil-o1');
    const deliveries = await network().run();
    const done = await jobs.status('fulfil-o1');

    // Assess
    expect(pending).toMatchObject({ state: 'pending', currentStep: { index: 0, name: 'reserve' } });
    expect(deliveries).toBeGreaterThanOrEqual(3);
    expect(done).toMatchObject({
      state: 'succeeded',
      input: { orderId: 'o1', quantity: 2 },
      steps: [
        { name: 'reserve', state: 'succeeded', attempts: 1, result: { reserved: 2 } },
        {
          name: 'notify',
          kind: 'parallel',
          state: 'succeeded',
          tasks: [
            { name: 'email', state: 'succeeded', result: { key: 'fulfil-o1:notify:email' } },
            { name: 'sms', state: 'succeeded' },
          ],
        },
        { name: 'ship', state: 'succeeded', result: { units: 2, channels: ['email', 'sms'] } },
      ],
    });
    expect(await counter('STOCK#o1')).toBe(2);
  });

  it('retries a failing task alone, then lets the aggregator move on', async () => {
    // Prepare
    flaky = 5;
    const tx = box.transaction();
    await startJob(tx, fulfil, { orderId: 'o2', quantity: 1 }, { jobId: 'fulfil-o2', tableName });
    await tx.commit();

    // Act
    await network().run();

    // Assess
    const status = await jobs.status('fulfil-o2');
    expect(status?.state).toBe('succeeded');
    expect(status?.steps[1]?.tasks).toMatchObject([
      { name: 'email', state: 'succeeded', attempts: 1 },
      { name: 'sms', state: 'failed', attempts: 2, lastError: 'Error: sms gateway down' },
    ]);
    expect(status?.steps[2]?.result).toStrictEqual({ units: 1, channels: ['email'] });
    flaky = 0;
  });

  it('refuses a second start of a job id, and an invalid input before adding anything', async () => {
    // Prepare
    const tx = box.transaction();
    const invalid = box.transaction();

    // Act
    await startJob(tx, fulfil, { orderId: 'o1', quantity: 1 }, { jobId: 'fulfil-o1', tableName });
    const refused = await tx.commit().catch((error: unknown) => error);
    const rejected = await startJob(
      invalid,
      fulfil,
      { orderId: 'o3', quantity: -1 },
      { jobId: 'fulfil-o3', tableName },
    ).catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(JobAlreadyStartedError);
    expect(refused).toMatchObject({ jobId: 'fulfil-o1' });
    expect(rejected).toBeInstanceOf(InvalidJobInputError);
    expect((rejected as InvalidJobInputError).problems).toStrictEqual([
      'input.quantity: Too small: expected number to be >0',
    ]);
    expect(invalid.params().TransactItems).toStrictEqual([]);
  });

  it('publishes an execution start with its committed transaction, and nothing with a cancelled one', async () => {
    // Prepare
    const machine = 'arn:aws:states:us-east-1:111111111111:stateMachine:fraud';
    const start = (orderId: string) => ({
      engine: 'step-functions' as const,
      target: machine,
      name: `fraud-${orderId}`,
      input: { orderId },
    });
    const committed = box.transaction();
    const cancelled = box.transaction();

    // Act
    committed.put({ pk: 'ORDER#x1', sk: 'ORDER', status: 'placed' });
    startExecution(committed, start('x1'));
    await committed.commit();
    cancelled.update({ pk: 'ORDER#x2', sk: 'ORDER' }, { status: 'paid' }, { expectedVersion: 4 });
    startExecution(cancelled, start('x2'));
    const refused = await cancelled.commit().catch((error: unknown) => error);

    // Assess
    expect(refused).toBeInstanceOf(VersionConflictError);
    const starts = (await scanPrefix(client, tableName, 'OUTBOX#ExecutionStart#')).filter((item) =>
      String(item.pk).includes('#fraud-x'),
    );
    expect(starts.map((item) => String(item.pk).split('/')[0])).toStrictEqual([
      'OUTBOX#ExecutionStart#fraud-x1',
    ]);
  });

  it('stalls a step that keeps failing, with its reason, and resumes only what is not done', async () => {
    // Prepare
    let failures = 4;
    const stubborn = defineJob('stubborn', {
      input: z.object({}),
      maxAttempts: 2,
      backoff: { baseSeconds: 0, capSeconds: 0 },
    })
      .step('once', async ({ ctx }) => {
        ctx.tx.update({ pk: 'ONCE', sk: 'COUNT' }, { count: add(1) });
        return 1;
      })
      .step('flaky', async () => {
        if (failures-- > 0) throw new Error(`still down (${failures} to go)`);
        return 'up';
      });
    const run = () =>
      new Network(config, { jobs: [stubborn], tableName }, { random: Math.random }).run();
    const tx = box.transaction();
    await startJob(tx, stubborn, {}, { jobId: 'stubborn-1', tableName });
    await tx.commit();

    // Act
    await run();
    const stalled = await jobs.status('stubborn-1');
    await jobs.resume('stubborn-1');
    await run();
    const stalledAgain = await jobs.status('stubborn-1');
    await jobs.resume('stubborn-1');
    await run();
    const done = await jobs.status('stubborn-1');

    // Assess
    expect(stalled).toMatchObject({
      state: 'stalled',
      currentStep: { name: 'flaky' },
      reason: 'step "flaky" failed 2 times; last: Error: still down (2 to go)',
      steps: [
        { name: 'once', state: 'succeeded' },
        { name: 'flaky', state: 'stalled', attempts: 2 },
      ],
    });
    expect(stalledAgain?.state).toBe('stalled');
    expect(done).toMatchObject({ state: 'succeeded', steps: [{}, { result: 'up' }] });
    expect(await counter('ONCE')).toBe(1);
    await expect(jobs.resume('stubborn-1')).rejects.toThrow(JobNotResumableError);
    expect(
      (await jobs.list({ state: 'succeeded', name: 'stubborn' })).map((j) => j.jobId),
    ).toStrictEqual(['stubborn-1']);
  });

  it('stalls a job whose definition the runner does not have, and keeps it for a runner that does', async () => {
    const tx = box.transaction();
    await startJob(tx, fulfil, { orderId: 'o9', quantity: 1 }, { jobId: 'unknown-1', tableName });
    await tx.commit();

    await new Network(config, { jobs: [], tableName }, { random: Math.random }).run();
    const stalled = await jobs.status('unknown-1');
    await jobs.resume('unknown-1');
    await network().run();

    expect(stalled).toMatchObject({
      state: 'stalled',
      reason: 'this runner has no definition of job "fulfil"',
    });
    expect((await jobs.status('unknown-1'))?.state).toBe('succeeded');
  });
});
