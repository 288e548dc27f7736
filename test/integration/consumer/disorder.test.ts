import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { UserScoreEvents } from '../../../functions/example/user-score/events.js';
import { type EventEnvelope, InboxEngine } from '../../../lib/consumer/index.js';
import { createTable, type TestTable } from '../../helpers/aws.js';
import { cases } from './cases.js';
import { deliver, stateOf } from './harness.js';

/** fast-check runs per case; the bar is at least 1,000. `EVENTBOX_DISORDER_RUNS` overrides. */
const RUNS = Number(process.env.EVENTBOX_DISORDER_RUNS ?? 1000);

/** Positions of events in a delivery order: each of `n` events 1 to 3 times, in any order. */
function schedules(n: number) {
  return fc
    .array(fc.integer({ min: 1, max: 3 }), { minLength: n, maxLength: n })
    .chain((counts) => {
      const deliveries = counts.flatMap((count, i) => Array.from({ length: count }, () => i));
      return fc.shuffledSubarray(deliveries, {
        minLength: deliveries.length,
        maxLength: deliveries.length,
      });
    });
}

describe('Consumer: the five cases of the disordering article, in every order, with duplicates', () => {
  const endpoint = inject('eventbox').endpoint;
  let table: TestTable;
  let engine: InboxEngine;

  beforeAll(async () => {
    table = await createTable(endpoint, 'user-score');
    engine = new InboxEngine({
      consumerName: 'user-score',
      tableName: table.tableName,
      client: table.client,
      schemas: UserScoreEvents,
      notYet: { maxAttempts: 100 },
    });
  });

  afterAll(async () => {
    await table.drop();
  });

  describe.each(Object.entries(cases))('%s', (_, makeCase) => {
    /** The final state when m1 then m2 each arrive once: the state every schedule must reach. */
    let inOrder: Record<string, Record<string, unknown>>;

    beforeAll(async () => {
      const ns = randomUUID();
      const c = makeCase(ns);
      await deliver(engine, [...c.setup, ...c.events]);
      inOrder = await stateOf(engine, table.tableName, c.partitions, ns);
      c.expectation(JSON.parse(JSON.stringify(inOrder).replaceAll('NS', ns)));
    });

    /** A fresh run of the case: setup in order, then m1 and m2 delivered as `order` says. */
    const finalStateAfter = async (order: readonly number[]) => {
      const ns = randomUUID();
      const c = makeCase(ns);
      await deliver(engine, c.setup);
      await deliver(
        engine,
        order.map((i) => c.events[i] as EventEnvelope),
      );
      return stateOf(engine, table.tableName, c.partitions, ns);
    };

    it.each([
      ['ordered: t1 < t2', [0, 1]],
      ['disordered: t1 > t2', [1, 0]],
      ['disordered with duplicates: m2, m1, m2, m1', [1, 0, 1, 0]],
    ])("reaches the in-order state when %s (the article's drawings)", async (_, order) => {
      expect(await finalStateAfter(order)).toStrictEqual(inOrder);
    });

    it(`reaches the in-order state for ${RUNS} generated schedules`, async () => {
      await fc.assert(
        fc.asyncProperty(schedules(2), async (order) => {
          expect(await finalStateAfter(order)).toStrictEqual(inOrder);
        }),
        { numRuns: RUNS },
      );
    }, 900_000);
  });
});
