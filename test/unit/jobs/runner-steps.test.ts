import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../../lib/jobs/index.js';
import { JobEvent } from '../../../lib/jobs/messages.js';
import { resumeJob } from '../../../lib/jobs/resume.js';
import { memoryJobs } from '../../helpers/memory-jobs.js';

const input = z.object({ id: z.string() });
const quick = { input, maxAttempts: 3, backoff: { baseSeconds: 10, capSeconds: 10 } };

/** Sequential steps on the memory store: checkpoints, duplicates, failures and stalls. */
describe('JobRunner, sequential steps (in memory)', () => {
  it('runs the steps in order in one delivery, each commit with its writes, and publishes the end', async () => {
    const seen: unknown[] = [];
    const job = defineJob('order', quick)
      .step('reserve', ({ input: i, ctx }) => {
        ctx.tx.put({ pk: `ORDER#${i.id}`, sk: 'RESERVED' });
        return { reserved: 2 };
      })
      .step('charge', ({ results }) => {
        seen.push(results.reserve);
        return 'charged';
      });
    const m = memoryJobs([job]);
    const started = await m.store.start(job, { id: '1' }, 'order-1');

    const outcome = await m.deliver(started);

    expect(outcome.status).toBe('handled');
    const view = await m.store.read('order-1');
    expect(view?.job.jobState).toBe('succeeded');
    expect([...(view?.steps.values() ?? [])].map((s) => [s.step, s.stepState, s.attempts])).toEqual(
      [
        ['reserve', 'succeeded', 1],
        ['charge', 'succeeded', 1],
      ],
    );
    expect(seen).toEqual([{ reserved: 2 }]);
    expect(m.store.writes.map((w) => w.Put?.Item?.pk)).toEqual(['ORDER#1']);
    expect(m.store.published.map((e) => e.type)).toEqual([JobEvent.started, JobEvent.succeeded]);
  });

  it('a duplicate delivery after the job moved on runs nothing again', async () => {
    let runs = 0;
    const job = defineJob('once', quick).step('only', () => ++runs);
    const m = memoryJobs([job]);
    const started = await m.store.start(job, { id: '1' }, 'once-1');
    await m.deliver(started);
    const commits = m.store.commits;

    const again = await m.deliver(started, 2);

    expect(again.status).toBe('handled');
    expect(runs).toBe(1);
    expect(m.store.commits).toBe(commits);
    expect(m.store.published.filter((e) => e.type === JobEvent.succeeded)).toHaveLength(1);
  });

  it('a failed attempt comes back after its backoff; a copy before it waits, uncounted', async () => {
    let runs = 0;
    const job = defineJob('flaky', quick).step('flaky', () => {
      if (++runs === 1) throw new Error('boom');
      return 'ok';
    });
    const m = memoryJobs([job]);
    const started = await m.store.start(job, { id: '1' }, 'flaky-1');

    const first = await m.deliver(started);
    const early = await m.deliver(started, 2);
    const delay = first.status === 'retry' ? first.delaySeconds : 0;
    m.advance(delay * 1000);
    const later = await m.deliver(started, 3);

    expect(first).toMatchObject({ status: 'retry', kind: 'step' });
    // Capped at 10 s, jittered.
    expect(delay).toBeGreaterThanOrEqual(1);
    expect(delay).toBeLessThanOrEqual(10);
    expect(first.status === 'retry' && first.reason).toMatch(/attempt 1 of 3\): Error: boom/);
    expect(early).toMatchObject({ status: 'retry', kind: 'waiting', delaySeconds: delay });
    expect(later.status).toBe('handled');
    expect(runs).toBe(2);
    const step = (await m.store.read('flaky-1'))?.steps.get(0);
    expect(step).toMatchObject({ stepState: 'succeeded', attempts: 2 });
  });

  it('after maxAttempts failures the job stalls at the step with the last error, and a notice', async () => {
    const job = defineJob('doomed', quick).step('always', () => {
      throw new Error('no');
    });
    const m = memoryJobs([job]);
    await m.store.start(job, { id: '1' }, 'doomed-1');

    await m.drain();

    const view = await m.store.read('doomed-1');
    expect(view?.job).toMatchObject({
      jobState: 'stalled',
      reason: 'step "always" failed 3 times; last: Error: no',
    });
    expect(view?.steps.get(0)).toMatchObject({ stepState: 'stalled', attempts: 3 });
    const stalled = m.store.published.filter((e) => e.type === JobEvent.stalled);
    expect(stalled.map((e) => e.payload.reason)).toEqual([view?.job.reason]);
  });

  it("a resumed stall starts the step's attempts again; what succeeded does not run again", async () => {
    let failing = true;
    let firstRuns = 0;
    const job = defineJob('resumable', quick)
      .step('first', () => ++firstRuns)
      .step('second', () => {
        if (failing) throw new Error('down');
        return 'up';
      });
    const m = memoryJobs([job]);
    await m.store.start(job, { id: '1' }, 'resumable-1');
    await m.drain();
    expect((await m.store.read('resumable-1'))?.job.jobState).toBe('stalled');

    failing = false;
    await resumeJob(m.store, 'resumable-1', () => new Date(m.now()));
    await m.drain();

    const view = await m.store.read('resumable-1');
    expect(view?.job.jobState).toBe('succeeded');
    expect(view?.job.reason).toBeUndefined();
    expect(view?.steps.get(1)).toMatchObject({ stepState: 'succeeded', attempts: 1 });
    expect(firstRuns).toBe(1);
  });

  it('a result that cannot be stored stalls the job at once, with what is wrong', async () => {
    const job = defineJob('bad-result', quick).step('nan', () => ({ value: Number.NaN }));
    const m = memoryJobs([job]);
    const started = await m.store.start(job, { id: '1' }, 'bad-1');

    await m.deliver(started);

    const view = await m.store.read('bad-1');
    expect(view?.job.reason).toBe(
      'step "nan" returned a value that cannot be stored: NaN is not a JSON number',
    );
    expect(view?.steps.get(0)).toMatchObject({ stepState: 'stalled', attempts: 1 });
  });

  it('writes over the transaction limit stall the job: no retry could commit them', async () => {
    const job = defineJob('too-many', quick).step('writes', ({ ctx }) => {
      for (let i = 0; i < 100; i++) ctx.tx.put({ pk: `ITEM#${i}`, sk: 'X' });
      return 'done';
    });
    const m = memoryJobs([job]);
    const started = await m.store.start(job, { id: '1' }, 'too-many-1');

    await m.deliver(started);

    const view = await m.store.read('too-many-1');
    expect(view?.job.jobState).toBe('stalled');
    expect(view?.job.reason).toMatch(/its writes and checkpoint cannot be committed: .*100/);
    expect(m.store.writes).toHaveLength(0);
  });

  it('a job this runner has no definition of, or whose steps changed, stalls with the reason', async () => {
    const v1 = defineJob('evolving', quick).step('a', () => 1);
    const v2 = defineJob('evolving', quick).step('b', () => 1);
    const other = defineJob('other', quick).step('a', () => 1);
    const m = memoryJobs([v2]);
    const changed = await m.store.start(v1, { id: '1' }, 'evolving-1');
    const unknown = await m.store.start(other, { id: '1' }, 'other-1');

    await m.deliver(changed);
    await m.deliver(unknown);

    expect((await m.store.read('evolving-1'))?.job).toMatchObject({ jobState: 'stalled' });
    expect((await m.store.read('evolving-1'))?.job.reason).toMatch(
      /no longer has the steps the job started with: it started with .*a.*, this runner has .*b/,
    );
    expect((await m.store.read('other-1'))?.job.reason).toBe(
      'this runner has no definition of job "other"',
    );
  });

  it('dead-letters what is no message of its jobs table, writing nothing', async () => {
    const job = defineJob('mine', quick).step('a', () => 1);
    const m = memoryJobs([job]);
    const theirs = memoryJobs([job], { store: { tableName: 'other-jobs' } });
    const started = await theirs.store.start(job, { id: '1' }, 'mine-1');

    const outcome = await m.deliver(started);

    expect(outcome).toMatchObject({
      status: 'dead-letter',
      reason: 'a message for jobs table other-jobs; this runner runs jobs',
    });
    expect(m.store.commits).toBe(0);
  });
});
