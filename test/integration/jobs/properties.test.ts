import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { seededRandom } from '../../../infra/demo/random.js';
import { defineJob, JobClient, type StepContext, startJob } from '../../../lib/jobs/index.js';
import { taskKey } from '../../../lib/jobs/records.js';
import { EventBox } from '../../../lib/producer/event-box.js';
import { add, append } from '../../../lib/transaction/update-operations.js';
import { clientConfig } from '../../helpers/aws.js';
import { Network } from '../../helpers/job-network.js';
import { createJobsTable } from '../../helpers/table.js';

/** Generated runs per engine: each a few jobs under crashes, duplicates, reordering and failures. */
const RUNS = 5;
const JOBS_PER_RUN = 3;
const TASKS = ['a', 'b', 'c'] as const;

/**
 * The jobs' guarantees under random crash points (before and after every checkpoint),
 * duplicated and reordered messages, and steps and tasks failing a random number of times:
 * every job ends succeeded or stalled with its reason; steps ran in order; every `ctx.tx`
 * write of a step, task or aggregator decision happened exactly once; a finished task
 * never ran again.
 */
describe.each(inject('eventbox').dynamoDbEngines)('Job properties on $name', ({ endpoint }) => {
  const config = clientConfig(endpoint);
  const client = new DynamoDBClient(config);
  let tableName: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    ({ tableName, drop } = await createJobsTable(client));
  });

  afterAll(async () => {
    await drop();
  });

  it('ends every job succeeded or stalled with a reason, each effect once, in order', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          seed: fc.integer(),
          crashBefore: fc.constantFrom(0, 0.1, 0.2),
          crashAfter: fc.constantFrom(0, 0.1, 0.2),
          failures: fc.array(
            fc.record({
              first: fc.integer({ min: 0, max: 4 }),
              last: fc.integer({ min: 0, max: 4 }),
              a: fc.integer({ min: 0, max: 5 }),
              b: fc.integer({ min: 0, max: 5 }),
              c: fc.integer({ min: 0, max: 5 }),
            }),
            { minLength: JOBS_PER_RUN, maxLength: JOBS_PER_RUN },
          ),
        }),
        async ({ seed, crashBefore, crashAfter, failures }) => {
          const ns = `r${run++}-${Math.abs(seed)}`;
          const budget = new Map<string, number>();
          const violations: string[] = [];
          const fail = (key: string) => {
            const left = budget.get(key) ?? 0;
            if (left > 0) {
              budget.set(key, left - 1);
              throw new Error(`injected failure of ${key}`);
            }
          };
          const effect = (ctx: StepContext, name: string) => {
            ctx.tx.update({ pk: `EFFECT#${ctx.jobId}`, sk: name }, { count: add(1) });
            ctx.tx.update({ pk: `EFFECT#${ctx.jobId}`, sk: 'LOG' }, { order: append([name]) });
          };
          const task =
            (name: string) =>
            async ({ ctx }: { ctx: StepContext }) => {
              const own = await ctx.get(taskKey(ctx.jobId, 1, name));
              if (own?.taskState !== 'pending')
                violations.push(`${ctx.jobId} ran ${name} when ${own?.taskState}`);
              fail(`${ctx.jobId}:${name}`);
              effect(ctx, `task-${name}`);
              return name;
            };
          const job = defineJob('property', {
            input: z.object({ n: z.number() }),
            maxAttempts: 4,
            backoff: { baseSeconds: 0, capSeconds: 0 },
          })
            .step('first', ({ input, ctx }) => {
              fail(`${ctx.jobId}:first`);
              effect(ctx, 'first');
              return input.n;
            })
            .parallel('fan', {
              tasks: { a: task('a'), b: task('b'), c: task('c') },
              aggregate: ({ tasks, round, ctx }) => {
                effect(ctx, `aggregate-${round}`);
                const failed = TASKS.filter((t) => tasks[t].state === 'failed');
                if (failed.length === 0 || (round >= 2 && failed.length < TASKS.length))
                  return { continue: TASKS.length - failed.length };
                return { retry: failed };
              },
              maxTaskAttempts: 2,
              maxRounds: 3,
            })
            .step('last', ({ results, ctx }) => {
              fail(`${ctx.jobId}:last`);
              effect(ctx, 'last');
              return results.first + results.fan;
            });

          const box = new EventBox({ tableName, source: 'property', client });
          const ids = failures.map((_, i) => `${ns}-j${i}`);
          for (const [i, f] of failures.entries()) {
            for (const [key, n] of Object.entries(f)) budget.set(`${ids[i]}:${key}`, n);
            const tx = box.transaction();
            await startJob(tx, job, { n: i }, { jobId: ids[i] ?? '', tableName });
            await tx.commit();
          }
          const network = new Network(
            config,
            { jobs: [job], tableName },
            { random: seededRandom(seed), crashBefore, crashAfter, maxCopies: 3 },
          );
          await network.run();
          network.quiet();
          await network.run();

          const jobs = new JobClient({ tableName, client });
          expect(violations).toStrictEqual([]);
          expect(network.deadLetters).toStrictEqual([]);
          for (const jobId of ids) {
            const status = await jobs.status(jobId);
            const effects = Object.fromEntries(
              (await network.items(`EFFECT#${jobId}`)).map((item) => [item.sk, item]),
            );
            const count = (name: string) => (effects[name]?.count as number | undefined) ?? 0;
            expect(['succeeded', 'stalled'], JSON.stringify(status)).toContain(status?.state);
            if (status?.state === 'stalled')
              expect(status.reason).toMatch(/failed 4 times|still failing after 3 rounds/);
            const [first, fan, last] = status?.steps ?? [];
            expect(count('first')).toBe(first?.state === 'succeeded' ? 1 : 0);
            for (const t of fan?.tasks ?? [])
              expect(count(`task-${t.name}`), `${jobId} ${t.name}`).toBe(
                t.state === 'succeeded' ? 1 : 0,
              );
            const rounds = Math.max(0, ...(fan?.tasks ?? []).map((t) => t.round));
            const decided = fan?.state === 'succeeded' ? rounds : Math.max(0, rounds - 1);
            for (let round = 1; round <= 3; round++)
              expect(count(`aggregate-${round}`), `${jobId} round ${round}`).toBe(
                round <= decided ? 1 : 0,
              );
            expect(count('last')).toBe(last?.state === 'succeeded' ? 1 : 0);
            // The committed order: first, then tasks and aggregator rounds, then last.
            const order = (effects.LOG?.order as string[] | undefined) ?? [];
            const positions = (prefix: string) =>
              order.flatMap((name, i) => (name.startsWith(prefix) ? [i] : []));
            const afterFirst = [
              ...positions('task-'),
              ...positions('aggregate-'),
              ...positions('last'),
            ];
            expect(afterFirst.every((i) => i > (positions('first')[0] ?? -1))).toBe(true);
            expect(positions('last').every((i) => i === order.length - 1)).toBe(true);
          }
        },
      ),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);
});
