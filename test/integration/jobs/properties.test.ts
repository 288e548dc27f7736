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

/** Generated runs per engine (the emulator is the slower): each a few jobs under every fault at once. */
const RUNS: Record<string, number> = { ministack: 4, 'dynamodb-local': 8 };
const JOBS_PER_RUN = 3;
const TASKS = ['a', 'b', 'c'] as const;

/**
 * The jobs' guarantees under concurrency and faults together: copies of every message,
 * some delivered twice at once, four at a time across two runners, interleaved at random
 * at every AWS call; invocations that die before any call or time out with a request in
 * flight (which lands after the message came back); lost responses on conditional
 * writes; throttles; a maxReceiveCount the retries reach; and steps and tasks failing a
 * random number of times. Every job ends succeeded or stalled with its reason (an
 * operator resumes one whose message SQS moved after its invocation died on its last
 * delivery); steps run in order; every `ctx.tx` write of a step, task or aggregator
 * decision happens exactly once; a step, task or aggregator never runs in two live
 * invocations at once; a finished task never runs again.
 */
describe.each(inject('eventbox').dynamoDbEngines)(
  'Job properties on $name',
  ({ name, endpoint }) => {
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

    it('ends every job succeeded or stalled with a reason, each effect once, in order, one runner at a time', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            seed: fc.integer(),
            crashAnyCall: fc.constantFrom(0, 0.02, 0.05),
            crashAfter: fc.constantFrom(0, 0.1),
            timeout: fc.constantFrom(0, 0.01, 0.03),
            loseAnyResponse: fc.constantFrom(0, 0.05, 0.15),
            throttle: fc.constantFrom(0, 0.02),
            concurrency: fc.constantFrom(1, 4),
            concurrentCopy: fc.constantFrom(0, 0.3),
            runners: fc.constantFrom(1, 2),
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
          async ({ seed, failures, ...faults }) => {
            const ns = `r${run++}-${Math.abs(seed)}`;
            const budget = new Map<string, number>();
            const violations: string[] = [];
            const active = new Map<string, Set<string>>();
            let network: Network | undefined;
            /** Runs `body` as the one live run of `key`: two at once is a violation. */
            const exclusive = async <T>(key: string, body: () => Promise<T>): Promise<T> => {
              const me = network?.delivery() ?? 'none';
              const running = active.get(key) ?? new Set<string>();
              active.set(key, running);
              const live = [...running].filter((id) => !network?.gone(id));
              if (live.length > 0) violations.push(`${key} ran in ${me} while live in ${live}`);
              running.add(me);
              try {
                return await body();
              } finally {
                running.delete(me);
              }
            };
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
              ({ ctx }: { ctx: StepContext }) =>
                exclusive(`${ctx.jobId}:${name}`, async () => {
                  // A read is a point where other deliveries run.
                  const own = await ctx.get(taskKey(ctx.jobId, 1, name));
                  if (own?.taskState !== 'pending')
                    violations.push(`${ctx.jobId} ran ${name} when ${own?.taskState}`);
                  fail(`${ctx.jobId}:${name}`);
                  effect(ctx, `task-${name}`);
                  return name;
                });
            const job = defineJob('property', {
              input: z.object({ n: z.number() }),
              maxAttempts: 4,
              backoff: { baseSeconds: 0, capSeconds: 0 },
            })
              .step('first', ({ input, ctx }) =>
                exclusive(`${ctx.jobId}:first`, async () => {
                  await ctx.get({ pk: `EFFECT#${ctx.jobId}`, sk: 'first' });
                  fail(`${ctx.jobId}:first`);
                  effect(ctx, 'first');
                  return input.n;
                }),
              )
              .parallel('fan', {
                tasks: { a: task('a'), b: task('b'), c: task('c') },
                aggregate: ({ tasks, round, ctx }) =>
                  exclusive(`${ctx.jobId}:aggregate`, async () => {
                    await ctx.get({ pk: `EFFECT#${ctx.jobId}`, sk: 'LOG' });
                    effect(ctx, `aggregate-${round}`);
                    const failed = TASKS.filter((t) => tasks[t].state === 'failed');
                    if (failed.length === 0 || (round >= 2 && failed.length < TASKS.length))
                      return { continue: TASKS.length - failed.length };
                    return { retry: failed };
                  }),
                maxTaskAttempts: 2,
                maxRounds: 3,
              })
              .step('last', ({ results, ctx }) =>
                exclusive(`${ctx.jobId}:last`, async () => {
                  await ctx.get({ pk: `EFFECT#${ctx.jobId}`, sk: 'last' });
                  fail(`${ctx.jobId}:last`);
                  effect(ctx, 'last');
                  return results.first + results.fan;
                }),
              );

            const box = new EventBox({ tableName, source: 'property', client });
            const ids = failures.map((_, i) => `${ns}-j${i}`);
            for (const [i, f] of failures.entries()) {
              for (const [key, n] of Object.entries(f)) budget.set(`${ids[i]}:${key}`, n);
              const tx = box.transaction();
              await startJob(tx, job, { n: i }, { jobId: ids[i] ?? '', tableName });
              await tx.commit();
            }
            network = new Network(
              config,
              { jobs: [job], tableName },
              { random: seededRandom(seed), maxCopies: 3, maxReceiveCount: 6, ...faults },
            );
            await network.run(4_000);
            network.quiet();
            await network.run(4_000);
            const jobs = new JobClient({ tableName, client });
            // SQS moves a message whose invocation died on its last delivery; the operator
            // resumes its job, as docs/operations.md says.
            const moved = network.deadLetters.map((l) => l.jobId);
            for (const jobId of new Set(moved)) {
              const status = jobId ? await jobs.status(jobId) : undefined;
              if (status?.state === 'running' || status?.state === 'pending')
                await jobs.resume(jobId as string);
            }
            await network.run(4_000);

            expect(violations).toStrictEqual([]);
            expect(moved.every((id) => id !== undefined)).toBe(true);
            for (const jobId of ids) {
              const status = await jobs.status(jobId);
              const effects = Object.fromEntries(
                (await network.items(`EFFECT#${jobId}`)).map((item) => [item.sk, item]),
              );
              const count = (name: string) => (effects[name]?.count as number | undefined) ?? 0;
              expect(['succeeded', 'stalled'], JSON.stringify(status)).toContain(status?.state);
              // An aggregator that throws stalls the job: here, when a read it made was throttled.
              if (status?.state === 'stalled')
                expect(status.reason).toMatch(
                  /failed \d+ times|still failing after 3 rounds|threw: ThrottlingException/,
                );
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
        { numRuns: RUNS[name] ?? 4, endOnFailure: true },
      );
    }, 600_000);
  },
);
