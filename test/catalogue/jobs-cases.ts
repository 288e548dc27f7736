import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { InvalidMessageError } from '../../lib/consumer/errors.js';
import {
  defineJob,
  dispatchExecution,
  InvalidExecutionStartError,
  InvalidJobDefinitionError,
  InvalidJobInputError,
  JobAlreadyStartedError,
  JobClient,
  type JobDefinition,
  startExecution,
  startJob,
} from '../../lib/jobs/index.js';
import { EventBox, InvalidOptionsError } from '../../lib/producer/index.js';
import { Network } from '../helpers/job-network.js';
import type { BadInputCase } from './case.js';
import type { CatalogueContext } from './context.js';

const order = z.object({ orderId: z.string(), quantity: z.number().int().positive() });
const simple = defineJob('simple', { input: order }).step('one', () => 1);

/** Starts `job` in a committed transaction, runs it with `runs`, and expects it stalled with `reason`. */
function stallsWith(
  // biome-ignore lint/suspicious/noExplicitAny: any definition
  job: JobDefinition<any, any>,
  reason: RegExp,
  // biome-ignore lint/suspicious/noExplicitAny: any definitions
  runs: ReadonlyArray<JobDefinition<any, any>> = [job],
) {
  return async (context: CatalogueContext) => {
    const { tableName, client } = context;
    const jobId = `${job.name}-${randomUUID().slice(0, 8)}`;
    const tx = new EventBox({ tableName, source: 'catalogue', client }).transaction();
    await startJob(tx, job, {}, { jobId, tableName });
    await tx.commit();
    await new Network(
      context.clientConfig,
      { jobs: runs, tableName },
      { random: Math.random },
    ).run();
    const status = await new JobClient({ tableName, client }).status(jobId);
    assert.equal(status?.state, 'stalled');
    assert.match(status?.reason ?? '', reason);
  };
}

export const jobsCases: BadInputCase[] = [
  {
    id: 'J01',
    stage: 'jobs',
    input: "input that fails the job's schema",
    outcome: '`InvalidJobInputError` naming every problem; nothing added to the transaction',
    check: async ({ tableName, client }) => {
      const tx = new EventBox({ tableName, source: 'catalogue', client }).transaction();
      await assert.rejects(
        startJob(tx, simple, { orderId: 7 } as never, { jobId: 'j01', tableName }),
        (e: unknown) =>
          e instanceof InvalidJobInputError &&
          e.problems.join('|') ===
            'input.orderId: Invalid input: expected string, received number|input.quantity: Invalid input: expected number, received undefined',
      );
      assert.deepEqual(tx.params().TransactItems, []);
    },
  },
  {
    id: 'J02',
    stage: 'jobs',
    input: 'a job id with spaces or over 200 characters',
    outcome: '`InvalidJobInputError` (jobId: must be 1 to 200 letters, digits, ...)',
    check: async ({ tableName, client }) => {
      const tx = new EventBox({ tableName, source: 'catalogue', client }).transaction();
      for (const jobId of ['has space', 'x'.repeat(201)]) {
        await assert.rejects(
          startJob(tx, simple, { orderId: 'o', quantity: 1 }, { jobId, tableName }),
          (e: unknown) =>
            e instanceof InvalidJobInputError && /jobId: must be 1 to 200/.test(e.message),
        );
      }
    },
  },
  {
    id: 'J03',
    stage: 'jobs',
    input: 'a second start of an existing job id',
    outcome: '`JobAlreadyStartedError` (with the job id) at commit; the transaction writes nothing',
    check: async ({ tableName, client }) => {
      const box = new EventBox({ tableName, source: 'catalogue', client });
      const jobId = `j03-${randomUUID().slice(0, 8)}`;
      const first = box.transaction();
      await startJob(first, simple, { orderId: 'o', quantity: 1 }, { jobId, tableName });
      await first.commit();
      const again = box.transaction();
      again.put({ pk: `J03#${jobId}`, sk: 'ITEM' });
      await startJob(again, simple, { orderId: 'o', quantity: 1 }, { jobId, tableName });
      await assert.rejects(
        again.commit(),
        (e: unknown) => e instanceof JobAlreadyStartedError && e.jobId === jobId,
      );
    },
  },
  {
    id: 'J04',
    stage: 'jobs',
    input: 'no jobs table given or configured',
    outcome: '`InvalidOptionsError` naming `tableName` and `EVENTBOX_JOBS_TABLE`',
    check: async ({ tableName, client }) => {
      const tx = new EventBox({ tableName, source: 'catalogue', client }).transaction();
      const saved = process.env.EVENTBOX_JOBS_TABLE;
      delete process.env.EVENTBOX_JOBS_TABLE;
      try {
        await assert.rejects(
          startJob(tx, simple, { orderId: 'o', quantity: 1 }, { jobId: 'j04' }),
          (e: unknown) => e instanceof InvalidOptionsError && /EVENTBOX_JOBS_TABLE/.test(e.message),
        );
      } finally {
        if (saved !== undefined) process.env.EVENTBOX_JOBS_TABLE = saved;
      }
    },
  },
  {
    id: 'J05',
    stage: 'jobs',
    input: 'a job definition with two steps of one name',
    outcome: '`InvalidJobDefinitionError` when the definition is built',
    check: async () => {
      assert.throws(
        () => simple.step('one', () => 2),
        (e: unknown) =>
          e instanceof InvalidJobDefinitionError && /two steps named "one"/.test(e.message),
      );
    },
  },
  {
    id: 'J05b',
    stage: 'jobs',
    input:
      "retries whose backoff can outlast SQS's 14-day retention (maxAttempts 40, capSeconds 43200)",
    outcome:
      '`InvalidJobDefinitionError` when the step is added, naming the hours and what to lower',
    check: async () => {
      const patient = defineJob('patient', {
        input: order,
        maxAttempts: 40,
        backoff: { baseSeconds: 60, capSeconds: 43_200 },
      });
      assert.throws(
        () => patient.step('one', () => 1),
        (e: unknown) =>
          e instanceof InvalidJobDefinitionError &&
          /up to 366 hours .* past the 14 days SQS keeps a message/.test(e.message),
      );
      // The defaults, and a day of patience, fit.
      defineJob('quick', { input: order }).step('one', () => 1);
      defineJob('day', { input: order, maxAttempts: 10, backoff: { capSeconds: 3_600 } }).step(
        'one',
        () => 1,
      );
    },
  },
  {
    id: 'J06',
    stage: 'jobs',
    input: 'a step returning a value JSON cannot carry (a BigInt)',
    outcome: 'the job stalled: step "…" returned a value that cannot be stored',
    check: stallsWith(
      defineJob('unstorable', { input: z.object({}) }).step('big', () => BigInt(1)),
      /step "big" returned a value that cannot be stored/,
    ),
  },
  {
    id: 'J07',
    stage: 'jobs',
    input: 'a step result over the 400 KB item limit',
    outcome:
      'the job stalled: the result of step "…" would make its record … bytes, over the item limit',
    check: stallsWith(
      defineJob('huge', { input: z.object({}) }).step('huge', () => 'x'.repeat(410 * 1024)),
      /the result of step "huge" would make its record \d+ bytes, over DynamoDB's 409600-byte item limit/,
    ),
  },
  {
    id: 'J08',
    stage: 'jobs',
    input: 'an aggregator that throws',
    outcome: 'the job stalled: the aggregator of step "…" threw: …',
    check: stallsWith(
      defineJob('broken', { input: z.object({}) }).parallel('fan', {
        tasks: { a: () => 1 },
        aggregate: () => {
          throw new Error('cannot decide');
        },
      }),
      /the aggregator of step "fan" threw: Error: cannot decide/,
    ),
  },
  {
    id: 'J09',
    stage: 'jobs',
    input: 'an aggregator asking to retry a task that did not fail',
    outcome: 'the job stalled: only failed tasks can be retried',
    check: stallsWith(
      defineJob('confused', { input: z.object({}) }).parallel('fan', {
        tasks: { a: () => 1 },
        aggregate: () => ({ retry: ['a'] }),
      }),
      /asked to retry \["a"\], but only failed tasks can be retried \(none failed\)/,
    ),
  },
  {
    id: 'J10',
    stage: 'jobs',
    input: 'a job the runner has no definition of (an unknown job name)',
    outcome: 'the job stalled: this runner has no definition of job "…"; resumable once it has',
    check: stallsWith(
      defineJob('orphan', { input: z.object({}) }).step('one', () => 1),
      /this runner has no definition of job "orphan"/,
      [],
    ),
  },
  {
    id: 'J11',
    stage: 'jobs',
    input:
      'an execution start with a target that is not an ARN, a name the engine refuses, or input over 256 KB',
    outcome: '`InvalidExecutionStartError` listing every problem; nothing added to the transaction',
    check: async ({ tableName, client }) => {
      const tx = new EventBox({ tableName, source: 'catalogue', client }).transaction();
      assert.throws(
        () =>
          startExecution(tx, {
            engine: 'step-functions',
            target: 'fraud-check',
            name: 'has space',
            input: { blob: 'x'.repeat(256 * 1024) },
          }),
        (e: unknown) =>
          e instanceof InvalidExecutionStartError &&
          e.problems.length === 3 &&
          /target: not a state machine ARN/.test(e.message) &&
          /name: must be 1 to 80/.test(e.message) &&
          /the engine takes at most 262144/.test(e.message),
      );
      assert.deepEqual(tx.params().TransactItems, []);
    },
  },
  {
    id: 'J12',
    stage: 'jobs',
    input: 'a second start of an execution name with a different input',
    outcome: 'dead-lettered by the dispatcher: "execution … was started with a different input"',
    check: async () => {
      const machine = 'arn:aws:states:us-east-1:111111111111:stateMachine:fraud';
      // The engine as AWS answers: the name exists, and ran with another input.
      const stepFunctions = {
        send: async (command: { constructor: { name: string } }) => {
          if (command.constructor.name === 'StartExecutionCommand')
            throw Object.assign(new Error('exists'), { name: 'ExecutionAlreadyExists' });
          return { input: '{"orderId":"o1","amount":5}' };
        },
      };
      await assert.rejects(
        dispatchExecution(
          {
            engine: 'step-functions',
            target: machine,
            name: 'fraud-o1',
            input: '{"orderId":"o1","amount":6}',
          },
          { stepFunctions, lambda: {} } as never,
        ),
        (e: unknown) =>
          e instanceof InvalidMessageError && /was started with a different input/.test(e.message),
      );
    },
  },
];
