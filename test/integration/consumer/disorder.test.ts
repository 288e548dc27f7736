import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { UserScoreEvents } from '../../../functions/example/user-score/events.js';
import { type EventEnvelope, InboxEngine } from '../../../lib/consumer/index.js';
import { createTable, type TestTable } from '../../helpers/aws.js';
import { cases } from './cases.js';
import { deliver, deliverAtOnce, stateOf } from './harness.js';

/**
 * Every delivery order of two events when each arrives 1 to 3 times: 62 distinct
 * sequences. Enumerated, not sampled, so every one of them is run.
 */
function allSchedules(): number[][] {
  const sequences = new Set<string>();
  const extend = (left: [number, number], prefix: number[]) => {
    if (left[0] === 0 && left[1] === 0) sequences.add(prefix.join(','));
    for (const i of [0, 1] as const) {
      if (left[i] === 0) continue;
      const next: [number, number] = [...left];
      next[i]--;
      extend(next, [...prefix, i]);
    }
  };
  for (let a = 1; a <= 3; a++) for (let b = 1; b <= 3; b++) extend([a, b], []);
  return [...sequences].map((s) => s.split(',').map(Number));
}

const SCHEDULES = allSchedules();

/**
 * Runs every schedule, a few at a time: each has its own namespace, so schedules share no
 * item, and only the deliveries within one schedule are ordered.
 */
async function eachSchedule<T>(run: (order: readonly number[]) => Promise<T>) {
  const results: Array<[string, T]> = [];
  for (let i = 0; i < SCHEDULES.length; i += 8) {
    const slice = SCHEDULES.slice(i, i + 8);
    const states = await Promise.all(slice.map(run));
    results.push(...slice.map((order, j) => [order.join(','), states[j] as T] as [string, T]));
  }
  return results;
}

it('enumerates all 62 delivery orders of two events arriving 1 to 3 times each', () => {
  expect(SCHEDULES).toHaveLength(62);
  expect(new Set(SCHEDULES.map((s) => s.join(','))).size).toBe(62);
});

describe.each(inject('eventbox').dynamoDbEngines)(
  'Consumer on $name: the five cases of the disordering article, in every order, with duplicates',
  ({ endpoint }) => {
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

      /**
       * A fresh run of the case: setup in order, then m1 and m2 delivered as `order` says,
       * one after another or all at once (concurrent deliveries of one event then race on
       * the inbox record itself, not on a read before it).
       */
      const finalStateAfter = async (order: readonly number[], concurrent = false) => {
        const ns = randomUUID();
        const c = makeCase(ns);
        await deliver(engine, c.setup);
        const deliveries = order.map((i) => c.events[i] as EventEnvelope);
        await (concurrent ? deliverAtOnce(engine, deliveries) : deliver(engine, deliveries));
        return stateOf(engine, table.tableName, c.partitions, ns);
      };

      it.each([
        ['ordered: t1 < t2', [0, 1]],
        ['disordered: t1 > t2', [1, 0]],
        ['disordered with duplicates: m2, m1, m2, m1', [1, 0, 1, 0]],
      ])("reaches the in-order state when %s (the article's drawings)", async (_, order) => {
        expect(await finalStateAfter(order)).toStrictEqual(inOrder);
      });

      it(`reaches the in-order state in each of the ${SCHEDULES.length} delivery orders, one at a time`, async () => {
        const states = await eachSchedule((order) => finalStateAfter(order));
        for (const [order, state] of states) expect(state, order).toStrictEqual(inOrder);
      }, 900_000);

      it(`reaches the in-order state in each of the ${SCHEDULES.length} delivery orders, all at once`, async () => {
        const states = await eachSchedule((order) => finalStateAfter(order, true));
        for (const [order, state] of states) expect(state, order).toStrictEqual(inOrder);
      }, 900_000);
    });
  },
);
