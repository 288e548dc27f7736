import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../../lib/jobs/index.js';
import { JobEvent } from '../../../lib/jobs/messages.js';
import { resumeJob } from '../../../lib/jobs/resume.js';
import { memoryJobs } from '../../helpers/memory-jobs.js';

const input = z.object({ id: z.string() });
const quick = { input, maxAttempts: 3, backoff: { baseSeconds: 0, capSeconds: 0 } };

/** A booking: three tasks in parallel, then an aggregator that decides. */
function booking(
  fails: Set<string>,
  decide: (failed: string[], round: number) => unknown = (failed) =>
    failed.length > 0 ? { retry: failed } : { continue: 'booked' },
  options: { maxRounds?: number } = {},
) {
  const runs: string[] = [];
  const task = (name: string) => () => {
    runs.push(name);
    if (fails.has(name)) throw new Error(`${name} is down`);
    return `${name}-ref`;
  };
  const job = defineJob('booking', quick)
    .parallel('book', {
      tasks: { flight: task('flight'), hotel: task('hotel'), car: task('car') },
      maxTaskAttempts: 2,
      maxRounds: options.maxRounds ?? 3,
      aggregate: ({ tasks, round }) =>
        decide(
          Object.entries(tasks)
            .filter(([, t]) => t.state === 'failed')
            .map(([name]) => name),
          round,
        ) as never,
    })
    .step('confirm', ({ results }) => `confirmed ${results.book}`);
  return { job, runs };
}

describe('JobRunner, parallel steps (in memory)', () => {
  it('fans out one message per task, runs each once, aggregates once and goes on', async () => {
    const { job, runs } = booking(new Set());
    const m = memoryJobs([job]);
    await m.store.start(job, { id: '1' }, 'trip-1');

    await m.drain();

    const view = await m.store.read('trip-1');
    expect(view?.job.jobState).toBe('succeeded');
    expect(runs.sort()).toEqual(['car', 'flight', 'hotel']);
    expect(view?.steps.get(0)).toMatchObject({ stepState: 'succeeded', result: '"booked"' });
    expect(view?.steps.get(1)?.result).toBe('"confirmed booked"');
    const tasks = m.store.published.filter((e) => e.type === JobEvent.task);
    expect(tasks.map((e) => [e.payload.task, e.payload.round])).toEqual([
      ['flight', 1],
      ['hotel', 1],
      ['car', 1],
    ]);
  });

  it('a redelivered task message after its task finished runs nothing again', async () => {
    const { job, runs } = booking(new Set());
    const m = memoryJobs([job]);
    await m.store.start(job, { id: '1' }, 'trip-2');
    await m.drain();
    const flight = m.store.published.find((e) => e.payload.task === 'flight');

    const again = flight ? await m.deliver(flight, 2) : undefined;

    expect(again?.status).toBe('handled');
    expect(runs.filter((r) => r === 'flight')).toHaveLength(1);
  });

  it('a retry runs only the failed tasks again, in a new round; a message of the old round is ignored', async () => {
    const fails = new Set(['hotel']);
    const { job, runs } = booking(fails);
    const m = memoryJobs([job]);
    await m.store.start(job, { id: '1' }, 'trip-3');
    // Round 1: hotel fails twice (maxTaskAttempts 2), the aggregator asks for round 2.
    const oldHotel = () => m.store.published.find((e) => e.payload.task === 'hotel');
    const until = async () => {
      for (let i = 0; i < 50; i++) {
        const view = await m.store.read('trip-3');
        if (view?.job.round === 2) return;
        const next = m.fresh();
        if (next.length === 0) break;
        for (const e of next) await m.deliver(e);
      }
    };
    await until();
    const first = oldHotel();
    if (first) await m.deliver(first, 2);
    expect((await m.store.read('trip-3'))?.job.round).toBe(2);
    fails.clear();

    const stale = first ? await m.deliver(first, 3) : undefined;
    await m.drain();

    expect(stale?.status).toBe('handled');
    const view = await m.store.read('trip-3');
    expect(view?.job.jobState).toBe('succeeded');
    expect(runs.filter((r) => r === 'flight')).toHaveLength(1);
    expect(runs.filter((r) => r === 'hotel')).toHaveLength(3);
    expect(view?.tasks.find((t) => t.task === 'hotel')).toMatchObject({
      taskState: 'succeeded',
      round: 2,
      attempts: 1,
    });
  });

  it('still failing after maxRounds: the job stalls at the step; resume runs the failed tasks alone', async () => {
    const fails = new Set(['car']);
    const { job, runs } = booking(fails, undefined, { maxRounds: 2 });
    const m = memoryJobs([job]);
    await m.store.start(job, { id: '1' }, 'trip-4');
    await m.drain();
    const stalled = await m.store.read('trip-4');
    expect(stalled?.job).toMatchObject({
      jobState: 'stalled',
      reason: 'step "book": tasks car still failing after 2 rounds',
    });
    fails.clear();

    await resumeJob(m.store, 'trip-4', () => new Date(m.now()));
    await m.drain();

    const view = await m.store.read('trip-4');
    expect(view?.job.jobState).toBe('succeeded');
    expect(runs.filter((r) => r === 'flight')).toHaveLength(1);
    expect(view?.tasks.find((t) => t.task === 'car')).toMatchObject({
      taskState: 'succeeded',
      round: 3,
    });
  });

  it('an aggregator that asks to retry a task that did not fail stalls the job with why', async () => {
    const { job } = booking(new Set(), () => ({ retry: ['flight'] }));
    const m = memoryJobs([job]);
    await m.store.start(job, { id: '1' }, 'trip-5');

    await m.drain();

    expect((await m.store.read('trip-5'))?.job.reason).toBe(
      'the aggregator of step "book" asked to retry ["flight"], but only failed tasks can be retried (none failed)',
    );
  });

  it('an aggregator that fails the job ends it failed, with a notice; it does not run again', async () => {
    let decisions = 0;
    const { job } = booking(new Set(['car']), () => {
      decisions++;
      return { fail: 'no car' };
    });
    const m = memoryJobs([job]);
    await m.store.start(job, { id: '1' }, 'trip-6');

    await m.drain();
    for (const e of m.store.published.filter((p) => p.type === JobEvent.task))
      await m.deliver(e, 9);

    expect((await m.store.read('trip-6'))?.job).toMatchObject({
      jobState: 'failed',
      reason: 'no car',
    });
    expect(decisions).toBe(1);
    expect(m.store.published.filter((e) => e.type === JobEvent.failed)).toHaveLength(1);
  });

  it('a held aggregation makes another delivery wait; after its lease runs out it is taken over', async () => {
    let decisions = 0;
    const { job } = booking(new Set(), () => {
      decisions++;
      return { continue: 'ok' };
    });
    const m = memoryJobs([job]);
    await m.store.start(job, { id: '1' }, 'trip-7');
    const [started] = m.fresh();
    if (started) await m.deliver(started);
    const [flight, hotel, car] = m.fresh();
    if (!flight || !hotel || !car) throw new Error('no task messages');
    await m.deliver(flight);
    await m.deliver(hotel);
    // The last task's delivery claims the aggregation and dies before deciding.
    const view = await m.store.read('trip-7');
    const done = m.store.checkpoint();
    const carTask = view?.tasks.find((t) => t.task === 'car');
    if (carTask) done.task(carTask, { taskState: 'succeeded', attempts: 1, result: '"x"' });
    await done.commit();
    const before = await m.store.read('trip-7');
    if (before)
      await m.store.claimAggregation(before.job, 'a-dead-invocation', {
        now: new Date(m.now()).toISOString(),
        until: new Date(m.now() + 30_000).toISOString(),
      });

    const waiting = await m.deliver(car, 2);
    m.advance(31_000);
    const takeover = await m.deliver(car, 3);

    expect(waiting).toMatchObject({ status: 'retry', kind: 'waiting' });
    expect(waiting.status === 'retry' && waiting.reason).toMatch(
      /the aggregator of step "book" is running in another invocation/,
    );
    expect(takeover.status).toBe('handled');
    expect(decisions).toBe(1);
    expect((await m.store.read('trip-7'))?.job.jobState).toBe('succeeded');
  });
});
