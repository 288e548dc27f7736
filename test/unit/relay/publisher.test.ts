import type {
  EventBridgeClient,
  PutEventsCommand,
  PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { publishRecords } from '../../../lib/relay/publisher.js';
import { classifyRecord, type PublishableRecord } from '../../../lib/relay/stream-records.js';
import { outboxRecord } from '../../helpers/stream-records.js';

interface Call {
  readonly aggregates: string[];
  readonly eventIds: string[];
}

/**
 * A PutEvents transport with per-call delays, deciding each entry's fate with `decide`,
 * and recording what was in flight at once.
 */
function transport(
  decide: (eventId: string, attempt: number) => PutEventsResultEntry,
  delays: () => number,
) {
  const calls: Call[] = [];
  const accepted: string[] = [];
  const inflight = new Map<number, string[]>();
  let overlap = false;
  const attempts = new Map<string, number>();
  const client = {
    send: async (command: PutEventsCommand) => {
      const entries = command.input.Entries ?? [];
      const ids = entries.map((e) => JSON.parse(e.Detail ?? '').id as string);
      const aggregates = entries.map((e) => {
        const { aggregate } = JSON.parse(e.Detail ?? '');
        return `${aggregate.type}#${aggregate.id}`;
      });
      const callId = calls.length;
      for (const other of inflight.values())
        if (other.some((a) => aggregates.includes(a))) overlap = true;
      inflight.set(callId, aggregates);
      calls.push({ aggregates, eventIds: ids });
      await new Promise((resolve) => setTimeout(resolve, delays()));
      inflight.delete(callId);
      const results = ids.map((id) => {
        const attempt = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, attempt);
        const result = decide(id, attempt);
        if (result.EventId) accepted.push(id);
        return result;
      });
      return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
    },
  } as unknown as EventBridgeClient;
  return { client, calls, accepted, overlapped: () => overlap };
}

/** Stream-ordered outbox records for `versions[i]` events of aggregate i, interleaved by `order`. */
function batch(versions: number[], order: number[]): PublishableRecord[] {
  const next = versions.map(() => 1);
  const sequence: Array<[number, number]> = [];
  const take = (aggregate: number) => {
    const version = next[aggregate] ?? 1;
    if (version > (versions[aggregate] ?? 0)) return false;
    sequence.push([aggregate, version]);
    next[aggregate] = version + 1;
    return true;
  };
  for (const pick of order) take(pick % versions.length);
  versions.forEach((_, aggregate) => {
    while (take(aggregate));
  });
  return sequence.map(([aggregate, version], index) => {
    const classified = classifyRecord(outboxRecord(`a${aggregate}`, version), index, {
      eventBusName: 'bus',
      maxEntryBytes: 1024 * 1024,
    });
    if (classified.kind !== 'publishable') throw new Error('expected publishable');
    return classified;
  });
}

const settings = (client: EventBridgeClient, concurrency = 4) => ({
  eventBridge: client,
  concurrency,
  maxEntryBytes: 1024 * 1024,
  maxAttempts: 10,
  backoff: { baseMs: 1, capMs: 3 },
  remainingMs: () => 60_000,
  safetyMarginMs: 100,
  deadLetter: async (letters: readonly unknown[]) => letters.map(() => true),
});

const shape = fc.record({
  versions: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 12 }),
  order: fc.array(fc.nat(), { maxLength: 200 }),
  concurrency: fc.integer({ min: 1, max: 8 }),
});

describe('Function: publishRecords', () => {
  it('never has two calls with the same aggregate in flight, and accepts each aggregate in batch order', async () => {
    await fc.assert(
      fc.asyncProperty(shape, fc.integer(), async ({ versions, order, concurrency }, seed) => {
        // Prepare: calls of varying latency
        const random = mulberry(seed);
        const t = transport(
          (id) => ({ EventId: `eb-${id}` }),
          () => Math.floor(random() * 3),
        );
        const records = batch(versions, order);

        // Act
        const outcome = await publishRecords(records, [], settings(t.client, concurrency));

        // Assess
        expect(outcome.firstUnpublishedIndex).toBeUndefined();
        expect(t.overlapped()).toBe(false);
        expect(t.calls.every((c) => c.eventIds.length <= 10)).toBe(true);
        expect(t.accepted).toHaveLength(records.length);
        expect(new Set(t.accepted)).toStrictEqual(new Set(records.map((r) => r.eventId)));
        for (const indexes of perAggregate(records, t.accepted).values()) {
          expect(indexes).toStrictEqual([...indexes].sort((a, b) => a - b));
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('under throttling, still sends each aggregate in batch order and publishes every event', async () => {
    await fc.assert(
      fc.asyncProperty(shape, fc.integer(), async ({ versions, order, concurrency }, seed) => {
        // Prepare: entries throttled now and then
        const random = mulberry(seed);
        const t = transport(
          (id, attempt) =>
            attempt < 3 && random() < 0.3
              ? { ErrorCode: 'ThrottlingException' }
              : { EventId: `eb-${id}` },
          () => Math.floor(random() * 3),
        );
        const records = batch(versions, order);

        // Act
        const outcome = await publishRecords(records, [], settings(t.client, concurrency));

        // Assess
        expect(outcome.firstUnpublishedIndex).toBeUndefined();
        expect(t.overlapped()).toBe(false);
        expect(new Set(t.accepted)).toStrictEqual(new Set(records.map((r) => r.eventId)));
        expect(t.accepted).toHaveLength(records.length);
        const firstSends = [...new Set(t.calls.flatMap((c) => c.eventIds))];
        for (const indexes of perAggregate(records, firstSends).values()) {
          expect(indexes).toStrictEqual([...indexes].sort((a, b) => a - b));
        }
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('reports the first record that failed for good, and publishes everything before it', async () => {
    await fc.assert(
      fc.asyncProperty(
        shape,
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        async ({ versions, order, concurrency }, picks) => {
          // Prepare: some records are refused for good (a setup error), others accepted
          const records = batch(versions, order);
          const failing = new Set(picks.map((p) => records[p % records.length]?.eventId));
          const t = transport(
            (id) =>
              failing.has(id) ? { ErrorCode: 'AccessDeniedException' } : { EventId: `eb-${id}` },
            () => 0,
          );

          // Act
          const outcome = await publishRecords(records, [], settings(t.client, concurrency));

          // Assess
          const expected = Math.min(
            ...records.filter((r) => failing.has(r.eventId)).map((r) => r.index),
          );
          expect(outcome.firstUnpublishedIndex).toBe(expected);
          const accepted = new Set(t.accepted);
          for (const record of records.slice(0, expected))
            expect(accepted.has(record.eventId)).toBe(true);
          for (const id of failing) expect(accepted.has(id ?? '')).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});

/** Batch positions of each aggregate's events, in the order of `eventIds`. */
function perAggregate(
  records: readonly PublishableRecord[],
  eventIds: readonly string[],
): Map<string, number[]> {
  const byId = new Map(records.map((r) => [r.eventId, r]));
  const result = new Map<string, number[]>();
  for (const id of eventIds) {
    const record = byId.get(id);
    if (record)
      result.set(record.aggregateKey, [...(result.get(record.aggregateKey) ?? []), record.index]);
  }
  return result;
}

/** A small seeded PRNG so that a failing property run can be replayed. */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
