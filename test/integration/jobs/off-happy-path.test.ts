import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import type { EventEnvelope } from '../../../lib/envelope/envelope.js';
import { OutboxItem } from '../../../lib/envelope/outbox-item.js';
import { defineJob } from '../../../lib/jobs/index.js';
import { JobEvent } from '../../../lib/jobs/messages.js';
import { JobRunner } from '../../../lib/jobs/runner.js';
import { add } from '../../../lib/transaction/update-operations.js';
import { sqsMessage } from '../../helpers/inbox.js';
import { Crash, Network } from '../../helpers/job-network.js';
import { jobsFixture, quickJob } from '../../helpers/jobs-fixture.js';

const quick = quickJob;

/**
 * The jobs' promise off the happy path, one defect each: every job ends succeeded, failed
 * or stalled with its reason, under deploys that change its steps, lost responses,
 * oversize results, copies of one message dying, stalls with tasks in flight and
 * contention.
 */
describe.each(inject('eventbox').dynamoDbEngines)(
  'Jobs off the happy path on $name',
  ({ endpoint }) => {
    const f = jobsFixture(endpoint);
    const { config, client } = f;
    const document = DynamoDBDocumentClient.from(client);
    const start = f.start;
    const network = f.network;
    const count = async (pk: string) => {
      const items = await new Network(
        config,
        { jobs: [], tableName: f.tableName },
        { random: Math.random },
      ).items(pk);
      return (items[0]?.count as number | undefined) ?? 0;
    };

    it('a deploy that changes the steps stalls the job with both plans: no step runs twice or is skipped', async () => {
      // Prepare: v1 [a, b]; a succeeds, b fails once.
      const v1 = defineJob('deploy', quick)
        .step('a', ({ input: i, ctx }) => {
          ctx.tx.update({ pk: `A#${i.id}`, sk: 'COUNT' }, { count: add(1) });
          return 'a';
        })
        .step('b', () => {
          throw new Error('b is down');
        });
      const jobId = await start(v1);
      await expect(network(v1).run(1)).rejects.toThrow('no end after 1 deliveries');
      // Act: v2 [x, a, b] takes the job over (the retry of the same message).
      let xRan = false;
      const v2 = defineJob('deploy', quick)
        .step('x', () => {
          xRan = true;
          return 'x';
        })
        .step('a', ({ input: i, ctx }) => {
          ctx.tx.update({ pk: `A#${i.id}`, sk: 'COUNT' }, { count: add(1) });
          return 'a';
        })
        .step('b', () => 'b');
      await network(v2).run();

      // Assess
      const status = await f.jobs.status(jobId);
      expect(status?.state).toBe('stalled');
      expect(status?.reason).toMatch(/started with \[a, b\], this runner has \[x, a, b\]/);
      expect(xRan).toBe(false);
      expect(await count(`A#${jobId}`)).toBe(1);
    });

    const parallel = (name: string, tasks: Record<string, () => unknown>) =>
      defineJob(name, quick).parallel('fan', {
        tasks: Object.fromEntries(Object.entries(tasks).map(([k, run]) => [k, async () => run()])),
        aggregate: ({ tasks: ended }) =>
          Object.values(ended).every((t) => t.state === 'succeeded')
            ? { continue: Object.keys(ended).length }
            : { fail: Object.values(ended).find((t) => t.error)?.error ?? 'failed' },
        maxTaskAttempts: 2,
      });

    it('a lost response to the aggregation claim still aggregates: the job succeeds, never "aggregating" forever', async () => {
      const job = parallel('claim', { a: () => 1, b: () => 2 });
      const jobId = await start(job);
      let lost = 0;

      await network(job, {
        loseResponse: (command, request) =>
          command === 'UpdateItemCommand' &&
          JSON.stringify(request.ExpressionAttributeValues).includes('"aggregating"') &&
          lost++ === 0,
      }).run();

      expect(lost).toBeGreaterThan(0);
      expect(await f.jobs.status(jobId)).toMatchObject({ state: 'succeeded' });
    });

    it('a task result over 400 KB fails the task for good, with its reason, and the aggregator decides', async () => {
      let runs = 0;
      const job = parallel('big-task', {
        big: () => {
          runs++;
          return 'x'.repeat(450_000);
        },
      });
      const jobId = await start(job);

      await network(job).run();

      const status = await f.jobs.status(jobId);
      expect(status?.state).toBe('failed');
      expect(status?.reason).toMatch(
        /cannot be committed.*409600-byte|cannot be committed.*limit is 409600/,
      );
      expect(runs).toBe(1);
    });

    it('an aggregator decision over 400 KB stalls the job with its reason', async () => {
      const job = defineJob('big-decision', quick).parallel('fan', {
        tasks: { a: async () => 1 },
        aggregate: () => ({ continue: 'x'.repeat(450_000) }),
      });
      const jobId = await start(job);

      await network(job).run();

      const status = await f.jobs.status(jobId);
      expect(status?.state).toBe('stalled');
      expect(status?.reason).toMatch(
        /decision of the aggregator of step "fan" cannot be committed/,
      );
    });

    /** The job events in the outbox, by type and task. */
    const outboxEvents = async (jobId: string) => {
      const { Items = [] } = await document.send(
        new ScanCommand({
          TableName: f.tableName,
          FilterExpression: '#m = :m',
          ExpressionAttributeNames: { '#m': OutboxItem.markerAttribute },
          ExpressionAttributeValues: { ':m': OutboxItem.markerValue },
          ConsistentRead: true,
        }),
      );
      return Items.map((i) => JSON.parse(String(i.detail)) as EventEnvelope).filter(
        (e) => (e.payload as { jobId?: string }).jobId === jobId,
      );
    };

    it('when the copy of a task message that checkpointed dies, the other copy aggregates', async () => {
      // Prepare: fanned out, task b done; two receipts of a's one message run at once.
      const job = parallel('copies', { a: () => 1, b: () => 2 });
      const jobId = await start(job);
      const plain = new JobRunner({ jobs: [job], tableName: f.tableName, client });
      const [started] = (await outboxEvents(jobId)).filter((e) => e.type === JobEvent.started);
      await plain.process(sqsMessage(started as EventEnvelope));
      const taskOf = async (task: string) =>
        (await outboxEvents(jobId)).find(
          (e) => e.type === JobEvent.task && (e.payload as { task: string }).task === task,
        ) as EventEnvelope;
      await plain.process(sqsMessage(await taskOf('b')));
      const racing = new DynamoDBClient(config);
      let arrived = 0;
      let release: () => void = () => {};
      const both = new Promise<void>((resolve) => {
        release = resolve;
      });
      let checkpointed: () => void = () => {};
      const firstCommitted = new Promise<void>((resolve) => {
        checkpointed = resolve;
      });
      racing.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
          // Both copies have read the job before either writes. The first records its
          // attempt, runs, checkpoints the task and dies; only then does the second write.
          const call = ++arrived;
          if (call <= 2) {
            if (call === 2) release();
            await both;
          }
          if (call === 2) await firstCommitted;
          if (call !== 3) return next(args);
          try {
            await next(args);
          } finally {
            checkpointed();
          }
          throw new Crash('died after checkpointing the task');
        },
        { step: 'initialize', name: 'race' },
      );
      const copies = new JobRunner({ jobs: [job], tableName: f.tableName, client: racing });
      const message = await taskOf('a');

      // Act
      const outcomes = await Promise.all([
        copies.process(sqsMessage(message)),
        copies.process(sqsMessage(message)),
      ]);

      // Assess
      // Those two deliveries alone end the job: neither waits for a redelivery.
      expect(outcomes.map((o) => o.status)).not.toContain('retry');
      expect(await f.jobs.status(jobId)).toMatchObject({ state: 'succeeded' });
    });

    it('resume sends again the tasks still pending when the job stalled', async () => {
      // Prepare: fanned out; then a deploy mid-flight stalls the job, consuming the task messages.
      const job = parallel('resume', { a: () => 1, b: () => 2 });
      const jobId = await start(job);
      await expect(network(job).run(1)).rejects.toThrow('no end after 1 deliveries');
      const changed = parallel('resume', { a: () => 1, c: () => 3 });
      await network(changed).run();
      expect(await f.jobs.status(jobId)).toMatchObject({ state: 'stalled' });
      const back = network(job);
      await back.consumeAll();

      // Act: the old definition deployed again, the operator resumes.
      await f.jobs.resume(jobId);
      await back.run();

      // Assess
      expect(await f.jobs.status(jobId)).toMatchObject({
        state: 'succeeded',
        steps: [{ name: 'fan', tasks: [{ state: 'succeeded' }, { state: 'succeeded' }] }],
      });
    });

    it('contention on an item a step writes is retried without counting as an attempt', async () => {
      const job = defineJob('contended', quick).step('hot', ({ ctx }) => {
        ctx.tx.update({ pk: 'HOT', sk: 'COUNT' }, { count: add(1) });
        return 'ok';
      });
      const jobId = await start(job);
      let conflicts = 0;

      await network(job, {
        failCall: (command, request) => {
          const items = request.TransactItems as unknown[] | undefined;
          if (command !== 'TransactWriteItemsCommand' || !JSON.stringify(items).includes('"HOT"'))
            return undefined;
          if (conflicts >= 5) return undefined;
          conflicts++;
          return new TransactionCanceledException({
            message: 'Transaction cancelled',
            $metadata: {},
            CancellationReasons: (items ?? []).map((_, i) => ({
              Code: i === 0 ? 'TransactionConflict' : 'None',
            })),
          });
        },
      }).run();

      expect(conflicts).toBe(5);
      expect(await f.jobs.status(jobId)).toMatchObject({
        state: 'succeeded',
        steps: [{ name: 'hot', attempts: 1 }],
      });
    });
  },
);
