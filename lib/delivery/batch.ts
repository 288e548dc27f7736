import type { Context, SQSBatchResponse } from 'aws-lambda';
import type { InboxMessage } from './messages.js';
import type { Outcome } from './outcome.js';
import type { Settler } from './settle.js';

/** The batch loop's defaults, for every processor. */
export const DeliveryDefaults = {
  /** Messages of a batch handled at once. */
  concurrency: 10,
  /** Below this much time left in the invocation, no message is started. */
  deadlineMarginMs: 3000,
} as const;

/** A Lambda handler of a delivery: SQS batches (answered with `batchItemFailures`), or one EventBridge event. */
export type DeliveryLambdaHandler = (
  event: unknown,
  context?: Context,
) => Promise<SQSBatchResponse | undefined>;

/** Runs `work` over items with at most `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

/** The invocation's clock, from its Lambda context. */
export interface Deadline {
  /** Milliseconds left in the invocation. */
  remainingMs(): number;
  /** Below this, no message is started. */
  readonly marginMs: number;
}

/**
 * The deadline of an invocation whose context tells the time left; none otherwise. The
 * margin is `marginMs`, or a fifth of the time left now if that is less, so that a short
 * timeout still starts its messages.
 */
export function deadlineOf(
  context: { getRemainingTimeInMillis?: () => number } | undefined,
  marginMs: number,
): Deadline | undefined {
  const remaining = context?.getRemainingTimeInMillis;
  if (typeof remaining !== 'function') return undefined;
  const remainingMs = () => remaining.call(context);
  return { remainingMs, marginMs: Math.min(marginMs, remainingMs() / 5) };
}

/**
 * What became of `message` if the invocation is too near its deadline to start it:
 * `'returned'` to its queue at once rather than the whole batch timing out, or `'done'`
 * (dead-lettered on its last delivery). Undefined when there is time to start it.
 */
export async function returnedUnstarted(
  deadline: Deadline | undefined,
  settler: Settler,
  message: InboxMessage,
): Promise<'returned' | 'done' | undefined> {
  if (!deadline || deadline.remainingMs() >= deadline.marginMs) return undefined;
  return (await settler.release(message, 'deadline')) ? 'done' : 'returned';
}

/**
 * What handles the messages of a batch: the inbox engine, the job runner. The batch loop
 * owns the order, concurrency and deadline; the processor decides each message's outcome.
 */
export interface BatchProcessor<TPrefetched = unknown> {
  /** Reads ahead, for the whole batch at once, what its messages need (their inbox records). */
  prefetch?(messages: readonly InboxMessage[]): Promise<ReadonlyMap<string, TPrefetched>>;
  /** Handles one message; `deadline` (ms since the epoch) is when the invocation ends at the latest. */
  process(
    message: InboxMessage,
    prefetched: TPrefetched | undefined,
    invocation: { readonly deadline?: number },
  ): Promise<Outcome>;
  /** A message to start even near the deadline: its first write hands its work on (a job's last delivery). */
  startsNearDeadline?(message: InboxMessage): boolean;
}

/**
 * Handles an SQS batch and answers with the messages that must come back.
 * Standard queues: messages run concurrently. FIFO queues: each group runs in order, and
 * after its first failure the group's later messages are failed without running, so the
 * group keeps its order, and made visible again at once: SQS holds them back while the
 * failed one waits out its own delay, not the whole visibility timeout. Other groups go on.
 * Near the invocation's deadline no message is started: those left are returned to the
 * queue at once.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
 */
export async function deliverSqsBatch<TPrefetched>(
  processor: BatchProcessor<TPrefetched>,
  settler: Settler,
  messages: readonly InboxMessage[],
  options: { readonly concurrency: number; readonly deadline?: Deadline | undefined },
): Promise<SQSBatchResponse> {
  const { concurrency, deadline } = options;
  const failed = new Set<string>();
  const prefetched: ReadonlyMap<string, TPrefetched> = processor.prefetch
    ? await processor.prefetch(messages).catch(() => new Map())
    : new Map();
  const one = async (message: InboxMessage): Promise<boolean> => {
    const unstarted = processor.startsNearDeadline?.(message)
      ? undefined
      : await returnedUnstarted(deadline, settler, message);
    if (unstarted) {
      if (unstarted === 'returned') failed.add(message.messageId);
      return false;
    }
    // Attempts this invocation starts are its own until it ends at the latest.
    const remaining = deadline?.remainingMs();
    const invocation = remaining === undefined ? {} : { deadline: Date.now() + remaining };
    let outcome: Outcome;
    try {
      outcome = await processor.process(message, prefetched.get(message.messageId), invocation);
    } catch (error) {
      outcome = { status: 'failed', error };
    }
    const done = await settler.settle(message, outcome);
    if (!done) failed.add(message.messageId);
    return done;
  };

  const fifo = messages.some((m) => m.groupId !== undefined);
  if (fifo) {
    const groups = new Map<string, InboxMessage[]>();
    for (const message of messages) {
      const key = message.groupId ?? message.messageId;
      groups.set(key, [...(groups.get(key) ?? []), message]);
    }
    await pool([...groups.values()], concurrency, async (group) => {
      let blocked = false;
      for (const message of group) {
        if (!blocked) blocked = !(await one(message));
        else if (!(await settler.release(message, 'group-blocked'))) failed.add(message.messageId);
      }
    });
  } else {
    await pool(messages, concurrency, async (message) => {
      await one(message);
    });
  }
  return {
    batchItemFailures: messages
      .filter((m) => failed.has(m.messageId))
      .map((m) => ({ itemIdentifier: m.messageId })),
  };
}
