import { describe, expect, it } from 'vitest';
import { jobsFinished } from '../../../infra/demo/jobs-report.js';
import type { JobStatus } from '../../../lib/jobs/status.js';

const status = (state: string) => ({ state }) as unknown as JobStatus;
const letterNaming = (jobId: string) => ({
  eventId: 'e-1',
  reason: 'EventBridge rejected the entry: InvalidArgument (injected)',
  body: JSON.stringify({
    record: { dynamodb: { NewImage: { detail: { S: JSON.stringify({ payload: { jobId } }) } } } },
  }),
});

describe('Function: jobsFinished', () => {
  it('counts ended jobs, and unfinished ones whose message a relay dead letter holds, by whole id', () => {
    const statuses = new Map([
      ['fulfil-r-o1', status('succeeded')],
      ['fulfil-r-o31', status('running')],
      ['fulfil-r-o310', status('pending')],
      ['fulfil-r-o4', status('stalled')],
    ]);

    expect(jobsFinished(statuses)).toBe(2);
    expect(jobsFinished(statuses, [letterNaming('fulfil-r-o310')])).toBe(3);
    expect(jobsFinished(statuses, [letterNaming('fulfil-r-o3')])).toBe(2);
  });
});
