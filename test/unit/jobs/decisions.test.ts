import { describe, expect, it } from 'vitest';
import { nextAttempt, readDecision } from '../../../lib/jobs/decisions.js';
import type { TaskRecord } from '../../../lib/jobs/records.js';
import { checkpointed, nextRound } from '../../../lib/jobs/transitions.js';

const at = (ms: number) => new Date(ms).toISOString();
const step = { name: 'book', maxRounds: 3 };
const task = (name: string, taskState: 'succeeded' | 'failed'): TaskRecord => ({
  pk: 'JOB#j',
  sk: `TASK#000#${name}`,
  jobId: 'j',
  stepIndex: 0,
  task: name,
  taskState,
  attempts: 1,
  round: 1,
  version: 2,
});

describe('nextAttempt', () => {
  it('runs the first attempt of a step that never started', () => {
    expect(nextAttempt(undefined, 'me', 0, 3, 'step "a"')).toEqual({ kind: 'run', attempt: 1 });
  });

  it('waits for an attempt another invocation holds, until its lease ends', () => {
    const held = { attempts: 1, holder: 'other', leaseUntil: at(5_000) };
    expect(nextAttempt(held, 'me', 1_000, 3, 'step "a"')).toEqual({
      kind: 'wait',
      reason: 'attempt 1 of step "a" is running in another invocation',
      until: 5_000,
    });
  });

  it('waits out a backoff, then runs the next attempt', () => {
    const backing = { attempts: 1, notBefore: at(5_000) };
    expect(nextAttempt(backing, 'me', 1_000, 3, 'x')).toMatchObject({ kind: 'wait', until: 5_000 });
    expect(nextAttempt(backing, 'me', 5_000, 3, 'x')).toEqual({ kind: 'run', attempt: 2 });
  });

  it('counts an attempt whose holder died, and its own that never ended', () => {
    const died = { attempts: 1, holder: 'other', leaseUntil: at(1_000) };
    expect(nextAttempt(died, 'me', 2_000, 3, 'x')).toMatchObject({
      kind: 'run',
      attempt: 2,
      unfinished: expect.stringMatching(/attempt 1 did not finish/),
    });
    const own = { attempts: 2, holder: 'me', leaseUntil: at(9_000) };
    expect(nextAttempt(own, 'me', 2_000, 3, 'x')).toEqual({
      kind: 'run',
      attempt: 3,
      unfinished: 'attempt 2 did not end',
    });
  });

  it('is exhausted when the unfinished attempt was the last allowed', () => {
    const died = { attempts: 3, holder: 'other', leaseUntil: at(1_000) };
    expect(nextAttempt(died, 'me', 2_000, 3, 'x')).toMatchObject({
      kind: 'exhausted',
      attempts: 3,
    });
  });
});

describe('readDecision', () => {
  const tasks = [task('flight', 'succeeded'), task('hotel', 'failed')];

  it('reads continue with its stored result, fail with its reason', () => {
    expect(readDecision({ continue: { ok: 1 } }, step, tasks, 1)).toEqual({
      kind: 'continue',
      json: '{"ok":1}',
    });
    expect(readDecision({ fail: 'no rooms' }, step, tasks, 1)).toEqual({
      kind: 'fail',
      reason: 'no rooms',
    });
  });

  it('retries failed tasks only, and only while rounds are left', () => {
    expect(readDecision({ retry: ['hotel'] }, step, tasks, 1)).toEqual({
      kind: 'retry',
      tasks: ['hotel'],
    });
    expect(readDecision({ retry: ['flight'] }, step, tasks, 1)).toMatchObject({
      kind: 'stall',
      reason: expect.stringMatching(/only failed tasks can be retried \(hotel\)/),
    });
    expect(readDecision({ retry: [] }, step, tasks, 1)).toMatchObject({ kind: 'stall' });
    expect(readDecision({ retry: ['hotel'] }, step, tasks, 3)).toEqual({
      kind: 'stall',
      reason: 'step "book": tasks hotel still failing after 3 rounds',
    });
  });

  it('stalls on anything else, or a result that cannot be stored', () => {
    expect(readDecision(undefined as never, step, tasks, 1)).toMatchObject({
      kind: 'stall',
      reason: expect.stringMatching(/returned undefined; it must return \{ continue \}/),
    });
    expect(readDecision({ continue: 1n } as never, step, tasks, 1)).toMatchObject({
      kind: 'stall',
      reason: expect.stringMatching(/cannot be stored/),
    });
  });
});

describe('transitions', () => {
  it('a new round starts the retried tasks afresh and gives up the aggregation claim', () => {
    const job = { round: 2, version: 7 } as never;
    const again = nextRound(job, 'now');
    expect(again.round).toBe(3);
    expect(again.task).toEqual({
      taskState: 'pending',
      attempts: 0,
      round: 3,
      lastError: undefined,
      finishedAt: undefined,
      holder: undefined,
      leaseUntil: undefined,
      notBefore: undefined,
    });
    expect(again.job).toEqual({
      claim: undefined,
      claimUntil: undefined,
      phase: 'tasks',
      round: 3,
      updatedAt: 'now',
    });
  });

  it('a checkpointed record has its changes, without removed fields, one version on', () => {
    const job = { jobId: 'j', version: 4, reason: 'old', jobState: 'stalled' } as never;
    expect(checkpointed(job, { reason: undefined, jobState: 'running' })).toEqual({
      jobId: 'j',
      version: 5,
      jobState: 'running',
    });
  });
});
