import type { Outcome } from '../../lib/consumer/engine.js';
import type { EventEnvelope } from '../../lib/envelope/envelope.js';
import type { JobDefinition } from '../../lib/jobs/definition.js';
import { RUNNER_EVENT_TYPES } from '../../lib/jobs/messages.js';
import { JobRunner, type JobRunnerOptions } from '../../lib/jobs/runner.js';
import { MemoryJobStore, type MemoryJobStoreOptions } from '../../lib/testing/memory-job-store.js';

/** Where every in-memory jobs test starts its clock. */
export const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/**
 * A runner over a memory store with a clock the test moves: the jobs state machine
 * without an emulator. `drain` delivers every runner message until none is left, as a
 * queue would (a retry comes back once its delay has passed).
 */
export function memoryJobs(
  // biome-ignore lint/suspicious/noExplicitAny: definitions of any input and results
  jobs: ReadonlyArray<JobDefinition<any, any>>,
  options: {
    readonly store?: Omit<MemoryJobStoreOptions, 'clock'>;
    readonly runner?: Partial<JobRunnerOptions>;
  } = {},
) {
  let now = T0;
  const clock = () => now;
  const store = new MemoryJobStore({ ...options.store, clock });
  const runner = new JobRunner({
    jobs,
    tableName: store.tableName,
    store,
    clock,
    ...options.runner,
  } as JobRunnerOptions);
  let delivered = 0;
  const outcomes: Outcome[] = [];
  return {
    store,
    runner,
    outcomes,
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
    /** One delivery of the event, its `receiveCount`-th, in an invocation that ends at `deadline`. */
    deliver(event: EventEnvelope, receiveCount = 1, deadline = now + 60_000): Promise<Outcome> {
      return runner.process(MemoryJobStore.messageOf(event, receiveCount), { deadline });
    },
    /** Runner messages published since the last call. */
    fresh(): EventEnvelope[] {
      const found = store.published
        .slice(delivered)
        .filter((e) => (RUNNER_EVENT_TYPES as readonly string[]).includes(e.type));
      delivered = store.published.length;
      return found;
    },
    /** Delivers each new runner message, and each retry after its delay, until none is left. */
    async drain(limit = 200): Promise<Outcome[]> {
      const queue: Array<{ event: EventEnvelope; receiveCount: number; at: number }> = [];
      const done: Outcome[] = [];
      for (let i = 0; i < limit; i++) {
        for (const event of this.fresh()) queue.push({ event, receiveCount: 1, at: now });
        queue.sort((a, b) => a.at - b.at);
        const next = queue.shift();
        if (!next) return done;
        if (next.at > now) now = next.at;
        const outcome = await this.deliver(next.event, next.receiveCount);
        done.push(outcome);
        outcomes.push(outcome);
        // What SQS does: a retry comes back after its delay, a failure after the backoff.
        const delaySeconds =
          outcome.status === 'retry'
            ? outcome.delaySeconds
            : outcome.status === 'failed'
              ? runner.backoffSeconds(next.receiveCount)
              : undefined;
        if (delaySeconds !== undefined)
          queue.push({
            event: next.event,
            receiveCount: next.receiveCount + 1,
            at: now + delaySeconds * 1000,
          });
      }
      throw new Error(`the jobs did not settle in ${limit} deliveries`);
    },
  };
}
