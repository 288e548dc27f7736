import type { RetryKindInfo } from '../delivery/outcome.js';
import { ConsumerMetrics } from './environment.js';

declare module '../delivery/outcome.js' {
  interface RetryKinds {
    /** A causal predecessor is missing: the handler said "not yet". */
    'not-yet': true;
    /** Lock-then-complete: another invocation holds the event's lock. */
    locked: true;
    /** Another delivery changed the same entity first. */
    conflict: true;
  }
}

/** The inbox's kinds of retry, as settling counts and names them. */
export const ConsumerRetryKinds = {
  'not-yet': {
    metric: ConsumerMetrics.notYetRetries,
    label: 'Not yet',
    // Its wait is bounded by notYet.maxWaitSeconds, not by the queue's receive count.
    requeuedMetric: ConsumerMetrics.notYetRequeued,
  },
  locked: { metric: ConsumerMetrics.lockWaits, label: 'Locked' },
  conflict: { metric: ConsumerMetrics.conflictRetries, label: 'Conflict' },
} as const satisfies Record<string, RetryKindInfo>;
