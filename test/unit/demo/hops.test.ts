import { describe, expect, it } from 'vitest';
import { hopSummary } from '../../../infra/demo/hops.js';
import { envelope } from '../../../lib/testing/builders.js';

const event = (version: number) =>
  envelope({
    type: 'UserCreated',
    aggregate: { type: 'User', id: 'u1', version },
    payload: {},
  });

/** The demo's and soak's account of one hop. */
describe('Function: hopSummary', () => {
  it('counts an event dead-lettered by one attempt and applied after a retry once, as applied, and says so', () => {
    const [a, b, c] = [event(1), event(2), event(3)];
    const summary = hopSummary({
      name: 'hop',
      committed: [a, b, c],
      consumed: [a, b, c],
      audited: [a.id, b.id],
      applied: new Map([
        [a.id, 't'],
        [b.id, 't'],
      ]),
      // b dead-lettered twice by attempts that did not publish it, then published and applied
      letters: [
        { eventId: b.id, reason: 'EventBridge rejected the entry (injected)', body: '' },
        { eventId: b.id, reason: 'EventBridge rejected the entry (injected)', body: '' },
        { eventId: c.id, reason: 'EventBridge rejected the entry (injected)', body: '' },
      ],
      facts: {
        handled: new Map([
          [a.id, 1],
          [b.id, 1],
        ]),
        duplicates: 0,
        staleSkipped: 0,
        notYetRetries: 0,
        conflictRetries: 0,
        failures: 0,
      },
    });

    expect(summary).toMatchObject({
      expected: 3,
      applied: 2,
      deadLettered: 1,
      deadLetteredThenApplied: 1,
      lost: 0,
      appliedTwice: 0,
    });
    expect(summary.applied + summary.deadLettered).toBe(summary.expected);
  });
});
