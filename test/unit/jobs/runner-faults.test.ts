import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../../lib/jobs/index.js';
import { JobEvent } from '../../../lib/jobs/messages.js';
import type { MemoryCommit } from '../../../lib/testing/memory-job-store.js';
import { TransactionConflictError } from '../../../lib/transaction/errors.js';
import { memoryJobs } from '../../helpers/memory-jobs.js';

const input = z.object({ id: z.string() });
const quick = { input, maxAttempts: 3, backoff: { baseSeconds: 0, capSeconds: 0 } };
const never = () => new Promise<void>(() => {});
/** A step's checkpoint: its own record and the check that the job runs, with its writes. */
const isStepCheckpoint = (c: MemoryCommit) =>
  c.changes.join() === 'step,running' && c.writes.length > 0;

/**
 * The crash points of a sequential step, on the memory store: an invocation stops after
 * any commit, or loses a commit's response, and the next delivery goes on exactly once.
 */
describe('JobRunner under faults (in memory)', () => {
  it('a crash before the step commits: the attempt counts, the next delivery after the lease runs it again', async () => {
    let runs = 0;
    let crash = true;
    const job = defineJob('crashy', quick).step('write', ({ ctx }) => {
      runs++;
      ctx.tx.put({ pk: 'ITEM', sk: String(runs) });
      return runs;
    });
    const m = memoryJobs([job], {
      store: { beforeCommit: (c) => (crash && isStepCheckpoint(c) ? never() : undefined) },
    });
    const started = await m.store.start(job, { id: '1' }, 'crashy-1');

    void m.deliver(started, 1, m.now() + 1_000);
    await until(() => runs === 1);
    crash = false;
    const copy = await m.deliver(started, 2);
    m.advance(2_000);
    const after = await m.deliver(started, 3);

    expect(copy).toMatchObject({ status: 'retry', kind: 'waiting' });
    expect(copy.status === 'retry' && copy.reason).toMatch(/attempt 1 of step "write" is running/);
    expect(after.status).toBe('handled');
    const view = await m.store.read('crashy-1');
    expect(view?.job.jobState).toBe('succeeded');
    expect(view?.steps.get(0)).toMatchObject({ attempts: 2, result: '2' });
    // Only the attempt that committed wrote.
    expect(m.store.writes.map((w) => w.Put?.Item?.sk)).toEqual(['2']);
  });

  it('crashes in every attempt: after maxAttempts the job stalls with "did not finish"', async () => {
    let runs = 0;
    const job = defineJob('always-crashes', quick).step('write', ({ ctx }) => {
      runs++;
      ctx.tx.put({ pk: 'ITEM', sk: 'X' });
      return 1;
    });
    const m = memoryJobs([job], {
      store: { beforeCommit: (c) => (isStepCheckpoint(c) ? never() : undefined) },
    });
    const started = await m.store.start(job, { id: '1' }, 'crashes-1');

    for (let attempt = 1; attempt <= 3; attempt++) {
      void m.deliver(started, attempt, m.now() + 1_000);
      await until(() => runs === attempt);
      m.advance(2_000);
    }
    await m.deliver(started, 4);

    expect(runs).toBe(3);
    const view = await m.store.read('crashes-1');
    expect(view?.job.jobState).toBe('stalled');
    expect(view?.job.reason).toMatch(
      /step "write" failed 3 times; last: attempt 3 did not finish: its invocation timed out or died/,
    );
    expect(m.store.writes).toHaveLength(0);
  });

  it('a lost response of the step checkpoint: the step does not run again and the job goes on', async () => {
    let runs = 0;
    let lose = true;
    const job = defineJob('lossy', quick)
      .step('write', ({ ctx }) => {
        runs++;
        ctx.tx.put({ pk: 'ITEM', sk: 'X' });
        return 'written';
      })
      .step('after', () => 'done');
    const m = memoryJobs([job], {
      store: {
        afterCommit: (c) => {
          if (lose && isStepCheckpoint(c)) {
            lose = false;
            throw new Error('socket hang up');
          }
        },
      },
    });
    const started = await m.store.start(job, { id: '1' }, 'lossy-1');

    const outcome = await m.deliver(started);

    expect(outcome.status).toBe('handled');
    expect(runs).toBe(1);
    expect(m.store.writes).toHaveLength(1);
    expect((await m.store.read('lossy-1'))?.job.jobState).toBe('succeeded');
  });

  it('contention on an item the step writes gives the attempt back: retried, not counted', async () => {
    let conflicts = 1;
    const job = defineJob('contended', { ...quick, maxAttempts: 1 }).step('write', ({ ctx }) => {
      ctx.tx.put({ pk: 'HOT', sk: 'ITEM' });
      return 'ok';
    });
    const m = memoryJobs([job], {
      store: {
        beforeCommit: (c) => {
          if (isStepCheckpoint(c) && conflicts-- > 0) {
            const action = {
              index: 0,
              kind: 'put',
              tableName: 'jobs',
              key: { pk: 'HOT', sk: 'ITEM' },
            };
            throw new TransactionConflictError(action, [{ action, code: 'TransactionConflict' }]);
          }
        },
      },
    });
    const started = await m.store.start(job, { id: '1' }, 'contended-1');

    const first = await m.deliver(started);
    const attemptsAfterConflict = (await m.store.read('contended-1'))?.steps.get(0)?.attempts;
    const second = await m.deliver(started, 2);

    expect(first.status).toBe('failed');
    expect(attemptsAfterConflict).toBe(0);
    // With maxAttempts 1, a counted conflict would have stalled the job.
    expect(second.status).toBe('handled');
    expect((await m.store.read('contended-1'))?.job.jobState).toBe('succeeded');
  });

  it('two copies delivered at once: the step runs once, the other copy waits', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const job = defineJob('twins', quick).step('slow', async () => {
      runs++;
      await gate;
      return 'ok';
    });
    const m = memoryJobs([job]);
    const started = await m.store.start(job, { id: '1' }, 'twins-1');

    const one = m.deliver(started);
    await until(() => runs === 1);
    const other = await m.deliver(started);
    release();

    expect(other).toMatchObject({ status: 'retry', kind: 'waiting' });
    expect((await one).status).toBe('handled');
    expect(runs).toBe(1);
    expect(m.store.published.filter((e) => e.type === JobEvent.succeeded)).toHaveLength(1);
  });

  it("a job stalled while its step ran: the step's writes do not commit", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = false;
    const job = defineJob('stopped', quick).step('slow', async ({ ctx }) => {
      entered = true;
      ctx.tx.put({ pk: 'ITEM', sk: 'X' });
      await gate;
      return 'ok';
    });
    const m = memoryJobs([job]);
    const started = await m.store.start(job, { id: '1' }, 'stopped-1');

    const running = m.deliver(started);
    await until(() => entered);
    const view = await m.store.read('stopped-1');
    const stall = m.store.checkpoint();
    if (view) stall.job(view.job, { jobState: 'stalled', reason: 'by an operator' });
    await stall.commit();
    release();
    await running;

    expect(m.store.writes).toHaveLength(0);
    expect((await m.store.read('stopped-1'))?.job).toMatchObject({
      jobState: 'stalled',
      reason: 'by an operator',
    });
  });

  it('on its last delivery a message hands the job to a new one, once however often it comes', async () => {
    const job = defineJob('last', quick).step('fails', () => {
      throw new Error('still failing');
    });
    const m = memoryJobs([job], { runner: { maxReceiveCount: 2 } });
    const started = await m.store.start(job, { id: '1' }, 'last-1');
    m.fresh();

    const last = await m.deliver(started, 2);
    const again = await m.deliver(started, 3);

    // The failed attempt is the new message's to retry: this one leaves as handled.
    expect(last.status).toBe('handled');
    expect(again.status).toBe('handled');
    const handOffs = m.fresh();
    expect(handOffs.map((e) => [e.type, e.aggregate.type])).toEqual([
      [JobEvent.started, 'JobHandOff'],
    ]);
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!condition()) throw new Error('the condition never held');
}
