import type { EventEnvelope } from '../envelope/envelope.js';

/**
 * The kinds of retry, each registered by the processor that decides it, by augmenting this
 * interface (`declare module`), and described at run time by its `RetryKindInfo`: the
 * delivery layer carries them out without knowing any.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by each processor's declaration merging
export interface RetryKinds {}

export type RetryKind = keyof RetryKinds & string;

/** How settling counts and names a kind of retry. */
export interface RetryKindInfo {
  /** The metric each retry of this kind counts in. */
  readonly metric: string;
  /** How a dead letter names what kept coming back. */
  readonly label: string;
  /**
   * On the queue's last delivery, the message is sent to the queue anew rather than
   * dead-lettered (counted in this metric): its wait is the processor's to bound.
   */
  readonly requeuedMetric?: string;
}

/** How handling one message ended; the adapters turn this into an SQS answer. */
export type Outcome =
  | {
      readonly status: 'handled';
      readonly event: EventEnvelope;
      readonly staleSkipped: number;
      readonly published: readonly EventEnvelope[];
    }
  | { readonly status: 'duplicate'; readonly event: EventEnvelope }
  | {
      readonly status: 'retry';
      /** What comes back, as the processor that decided it names it (see `RetryKinds`). */
      readonly kind: RetryKind;
      readonly event: EventEnvelope;
      readonly reason: string;
      readonly delaySeconds: number;
    }
  | { readonly status: 'dead-letter'; readonly event?: EventEnvelope; readonly reason: string }
  | { readonly status: 'failed'; readonly event?: EventEnvelope; readonly error: unknown };
