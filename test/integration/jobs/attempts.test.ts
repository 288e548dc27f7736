import { describe, expect, inject, it } from 'vitest';
import type { InboxMessage } from '../../../lib/delivery/messages.js';
import { defineJob, type StepContext } from '../../../lib/jobs/index.js';
import { JobRunner } from '../../../lib/jobs/runner.js';
import { add } from '../../../lib/transaction/update-operations.js';
import { jobsFixture, quickJob } from '../../helpers/jobs-fixture.js';

/**
 * Nothing a runner does is uncounted: every attempt is recorded before its work starts,
 * so timeouts, crashes and commit errors count, and the last delivery SQS allows hands the
 * job to a new message or stalls it with its reason; `resume` takes on a job whose
 * message is gone.
 */
describe.each(inject('eventbox').dynamoDbEngines)('Job attempts on $name', ({ endpoint }) => {
  const f = jobsFixture(endpoint);

  it('an attempt that times out counts: after maxAttempts of them the job stalls with the reason', async () => {
    // Prepare: a step that never returns, as a Lambda killed at its timeout.
    let runs = 0;
    const job = defineJob('hangs', quickJob).step('slow', () => {
      runs++;
      return new Promise<never>(() => {});
    });
    const jobId = await f.start(job);
    let now = Date.now();
    const runner = new JobRunner({
      jobs: [job],
      tableName: f.tableName,
      client: f.client,
      clock: () => now,
    });
    const net = f.network(job);
    const [message] = await net.drain();

    // Act: three invocations each time out mid-step; the fourth delivery finds three died.
    for (let attempt = 1; attempt <= 3; attempt++) {
      void runner.process(message as InboxMessage, { deadline: now + 1_000 });
      await until(
        async () => (await f.jobs.status(jobId))?.steps[0]?.attempts === attempt,
        `attempt ${attempt} recorded`,
      );
      now += 2_000;
    }
    const outcome = await runner.process(message as InboxMessage, { deadline: now + 1_000 });

    // Assess
    expect(outcome.status).toBe('handled');
    expect(runs).toBe(3);
    const status = await f.jobs.status(jobId);
    expect(status?.state).toBe('stalled');
    expect(status?.reason).toMatch(
      /step "slow" failed 3 times; last: attempt 3 did not finish: its invocation timed out or died/,
    );
  });

  it('a commit refused for access is a counted attempt: the job stalls with the error, not retried forever', async () => {
    const job = defineJob('denied', quickJob).step('write', ({ ctx }) => {
      ctx.tx.update({ pk: 'FORBIDDEN', sk: 'COUNT' }, { count: add(1) });
      return 'ok';
    });
    const jobId = await f.start(job);

    const deliveries = await f
      .network(job, {
        failCall: (command, request) =>
          command === 'TransactWriteItemsCommand' &&
          JSON.stringify(request.TransactItems).includes('"FORBIDDEN"')
            ? Object.assign(new Error('not authorized to perform dynamodb:UpdateItem'), {
                name: 'AccessDeniedException',
              })
            : undefined,
      })
      .run(20);

    const status = await f.jobs.status(jobId);
    expect(deliveries).toBeLessThanOrEqual(4);
    expect(status).toMatchObject({ state: 'stalled', steps: [{ attempts: 3 }] });
    expect(status?.reason).toMatch(/failed 3 times; last: AccessDeniedException/);
  });

  it('sequential steps sharing one message never exhaust its receive count: the last delivery hands the job to a new message', async () => {
    // Prepare: 3 steps failing 4 times each, maxAttempts 5, the queue's maxReceiveCount 11.
    const failures = new Map([
      ['one', 4],
      ['two', 4],
      ['three', 4],
    ]);
    const flaky = (name: string) => () => {
      const left = failures.get(name) ?? 0;
      failures.set(name, left - 1);
      if (left > 0) throw new Error(`${name} is down`);
      return name;
    };
    const job = defineJob('long', { ...quickJob, maxAttempts: 5 })
      .step('one', flaky('one'))
      .step('two', flaky('two'))
      .step('three', flaky('three'));
    const jobId = await f.start(job);
    const net = f.network(job, { maxReceiveCount: 11 });

    await net.run();

    expect(net.deadLetters).toStrictEqual([]);
    expect(await f.jobs.status(jobId)).toMatchObject({
      state: 'succeeded',
      steps: [{ attempts: 5 }, { attempts: 5 }, { attempts: 5 }],
    });
  });

  it('a copy of a message delivered during a backoff waits it out: it does not run the step early', async () => {
    let now = Date.now();
    const times: number[] = [];
    const job = defineJob('patient', {
      ...quickJob,
      backoff: { baseSeconds: 30, capSeconds: 30 },
    }).step('flaky', () => {
      times.push(now);
      if (times.length === 1) throw new Error('down once');
      return 'up';
    });
    const jobId = await f.start(job);
    const runner = new JobRunner({
      jobs: [job],
      tableName: f.tableName,
      client: f.client,
      clock: () => now,
    });
    const [message] = await f.network(job).drain();
    const delivered = message as InboxMessage;

    // Act: the message fails; a copy of it (EventBridge may deliver two) comes at once.
    const first = await runner.process(delivered);
    const copy = await runner.process(delivered);
    now += 31_000;
    const later = await runner.process(delivered);

    // Assess
    expect(first).toMatchObject({ status: 'retry', kind: 'step' });
    expect(copy).toMatchObject({ status: 'retry', kind: 'waiting' });
    expect((copy as { reason: string }).reason).toMatch(/waits out its backoff/);
    expect(later.status).toBe('handled');
    expect(times).toHaveLength(2);
    expect((await f.jobs.status(jobId))?.state).toBe('succeeded');
  });

  it('a job stalled while its step runs commits nothing more: neither that step nor the next', async () => {
    // Prepare: step one runs, held at a gate; a deploy mid-flight changes the steps.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let secondRan = false;
    const one = async ({ ctx }: { ctx: StepContext }) => {
      await gate;
      ctx.tx.update({ pk: `ONE#${ctx.jobId}`, sk: 'COUNT' }, { count: add(1) });
      return 1;
    };
    const two = () => {
      secondRan = true;
      return 2;
    };
    const v1 = defineJob('midflight', quickJob).step('one', one).step('two', two);
    const v2 = defineJob('midflight', quickJob)
      .step('zero', () => 0)
      .step('one', one)
      .step('two', two);
    const jobId = await f.start(v1);
    const net = f.network(v1);
    const [message] = await net.drain();
    const delivered = message as InboxMessage;
    const running = new JobRunner({ jobs: [v1], tableName: f.tableName, client: f.client }).process(
      delivered,
    );
    await until(
      async () => (await f.jobs.status(jobId))?.steps[0]?.attempts === 1,
      'the attempt recorded',
    );

    // Act: the new runner's copy of the message stalls the job; then step one returns.
    const stalling = await new JobRunner({
      jobs: [v2],
      tableName: f.tableName,
      client: f.client,
    }).process(delivered);
    release();
    const outcome = await running;

    // Assess
    expect([stalling.status, outcome.status]).toStrictEqual(['handled', 'handled']);
    const status = await f.jobs.status(jobId);
    expect(status?.state).toBe('stalled');
    expect(status?.reason).toMatch(/started with \[one, two\], this runner has \[zero, one, two\]/);
    expect(await net.items(`ONE#${jobId}`)).toStrictEqual([]);
    expect(secondRan).toBe(false);
  });

  it('resume takes on a running job whose message is gone', async () => {
    const job = defineJob('orphan', quickJob).step('flaky', ({ ctx }) => {
      if (ctx.attempt === 1) throw new Error('down once');
      return 'up';
    });
    const jobId = await f.start(job);
    const net = f.network(job);
    await expect(net.run(1)).rejects.toThrow('no end after 1 deliveries');
    await net.consumeAll();
    const orphaned = await f.jobs.status(jobId);

    await f.jobs.resume(jobId);
    await net.run();

    expect(orphaned?.state).toBe('running');
    expect(await f.jobs.status(jobId)).toMatchObject({
      state: 'succeeded',
      steps: [{ attempts: 2, result: 'up' }],
    });
  });
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}
