import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineJob,
  JobNotFoundError,
  JobNotResumableError,
  JobResumeConflictError,
} from '../../../lib/jobs/index.js';
import { JobEvent } from '../../../lib/jobs/messages.js';
import { resumeJob } from '../../../lib/jobs/resume.js';
import { memoryJobs } from '../../helpers/memory-jobs.js';

const quick = { input: z.object({}), maxAttempts: 1, backoff: { baseSeconds: 0, capSeconds: 0 } };

describe('resumeJob (in memory)', () => {
  it('a running job whose message is gone gets its messages again, and nothing of it changes', async () => {
    const job = defineJob('lost', quick).step('a', () => 1);
    const m = memoryJobs([job]);
    await m.store.start(job, {}, 'lost-1');
    m.fresh();
    const before = await m.store.read('lost-1');

    await resumeJob(m.store, 'lost-1', () => new Date(m.now()));

    const resent = m.fresh();
    expect(resent.map((e) => e.type)).toEqual([JobEvent.resumed]);
    expect(await m.store.read('lost-1')).toEqual(before);
    if (resent[0]) await m.deliver(resent[0]);
    expect((await m.store.read('lost-1'))?.job.jobState).toBe('succeeded');
  });

  it('a job that moved while it was resumed is read again and resumed from there', async () => {
    const job = defineJob('moving', quick).step('a', () => {
      throw new Error('x');
    });
    let moves = 1;
    const m = memoryJobs([job], {
      store: {
        beforeCommit: async (c) => {
          if (
            c.changes.includes('job') &&
            c.events.some((e) => e.type === JobEvent.resumed) &&
            moves-- > 0
          ) {
            // Another operator resumed it first.
            await resumeJob(m.store, 'moving-1', () => new Date(m.now()));
          }
        },
      },
    });
    await m.store.start(job, {}, 'moving-1');
    await m.drain();
    m.fresh();

    await resumeJob(m.store, 'moving-1', () => new Date(m.now()));

    expect((await m.store.read('moving-1'))?.job.jobState).toBe('running');
    // The other's resume, then this one's resend of the running job's message.
    expect(m.fresh().map((e) => e.aggregate.type)).toEqual(['Job', 'JobResume']);
  });

  it('gives up with a typed error when the job keeps moving', async () => {
    const job = defineJob('busy', quick).step('a', () => {
      throw new Error('x');
    });
    let armed = false;
    const m = memoryJobs([job], {
      store: {
        beforeCommit: async (c) => {
          if (!armed || !c.changes.includes('job')) return;
          const view = await m.store.read('busy-1');
          const bump = m.store.checkpoint();
          if (view) bump.job(view.job, { updatedAt: new Date().toISOString() });
          // The bump itself passes through here: only the resume's checkpoints move.
          if (c.events.length > 0) await bump.commit();
        },
      },
    });
    await m.store.start(job, {}, 'busy-1');
    await m.drain();
    armed = true;

    const resumed = resumeJob(m.store, 'busy-1', () => new Date(m.now()));

    await expect(resumed).rejects.toBeInstanceOf(JobResumeConflictError);
    await expect(resumed).rejects.toThrow(/changed while it was being resumed, 5 times in a row/);
  });

  it('refuses a job that does not exist or has ended', async () => {
    const job = defineJob('ends', quick).step('a', () => 1);
    const m = memoryJobs([job]);
    await m.store.start(job, {}, 'ends-1');
    await m.drain();

    await expect(resumeJob(m.store, 'ends-1', () => new Date())).rejects.toBeInstanceOf(
      JobNotResumableError,
    );
    await expect(resumeJob(m.store, 'nobody', () => new Date())).rejects.toBeInstanceOf(
      JobNotFoundError,
    );
  });
});
