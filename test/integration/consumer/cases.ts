import type { EventEnvelope } from '../../../lib/consumer/index.js';
import { envelope } from '../../helpers/inbox.js';

/**
 * The five cases of the disordering article, for the user-score service. Each case has
 * setup events (applied in order first), the two events m1 and m2 that occurred one after
 * the other, and what the article says the final state must show. `ns` keeps the ids of
 * one run apart from every other run in the same table.
 */
export interface DisorderCase {
  readonly name: string;
  readonly setup: readonly EventEnvelope[];
  readonly events: readonly [EventEnvelope, EventEnvelope];
  /** Partition keys whose items make up the case's state. */
  readonly partitions: readonly string[];
  /** What the article expects, checked against the in-order final state. */
  readonly expectation: (state: Record<string, Record<string, unknown>>) => void;
}

const user = (
  ns: string,
  id: string,
  version: number,
  name: string,
  region: string,
  regionVersion: number,
  type = 'UserUpdated',
) =>
  envelope({
    type,
    aggregate: { type: 'User', id: `${ns}-${id}`, version },
    payload: { userId: `${ns}-${id}`, name, region, regionVersion },
  });

const paid = (ns: string, order: string, userId: string, amount: number, regionVersion: number) =>
  envelope({
    type: 'OrderPaid',
    aggregate: { type: 'Order', id: `${ns}-${order}`, version: 2 },
    payload: {
      orderId: `${ns}-${order}`,
      userId: `${ns}-${userId}`,
      amount,
      userRegionVersion: regionVersion,
    },
  });

const canceled = (ns: string, order: string, userId: string, regionVersion: number) =>
  envelope({
    type: 'OrderCanceled',
    aggregate: { type: 'Order', id: `${ns}-${order}`, version: 3 },
    payload: {
      orderId: `${ns}-${order}`,
      userId: `${ns}-${userId}`,
      paidTime: '2026-01-01T00:00:00.000Z',
      userRegionVersion: regionVersion,
    },
  });

export type CaseFactory = (ns: string) => DisorderCase;

export const cases: Record<string, CaseFactory> = {
  'case 1: two users created (non-causal)': (ns) => ({
    name: 'case 1',
    setup: [],
    events: [
      user(ns, 'A', 1, 'Ann', 'us', 0, 'UserCreated'),
      user(ns, 'B', 1, 'Bob', 'eu', 0, 'UserCreated'),
    ],
    partitions: [`USER#${ns}-A`, `USER#${ns}-B`],
    expectation: (state) => {
      expectItem(state, `USER#${ns}-A|USER`, { name: 'Ann', version: 1 });
      expectItem(state, `USER#${ns}-B|USER`, { name: 'Bob', version: 1 });
    },
  }),
  'case 2: user created, then an order paid (causal, entity not found)': (ns) => ({
    name: 'case 2',
    setup: [],
    events: [user(ns, 'A', 1, 'Ann', 'us', 0, 'UserCreated'), paid(ns, 'o1', 'A', 10, 0)],
    partitions: [`USER#${ns}-A`, `ORDER#${ns}-o1`],
    expectation: (state) => {
      expectItem(state, `USER#${ns}-A|REGION#00000000`, { score: 10 });
      expectItem(state, `ORDER#${ns}-o1|ORDER`, { hasPaidEventHandled: true });
    },
  }),
  'case 3: order paid, then canceled (causal, not idempotent)': (ns) => ({
    name: 'case 3',
    setup: [user(ns, 'A', 1, 'Ann', 'us', 0, 'UserCreated')],
    events: [paid(ns, 'o1', 'A', 10, 0), canceled(ns, 'o1', 'A', 0)],
    partitions: [`USER#${ns}-A`, `ORDER#${ns}-o1`],
    expectation: (state) => {
      expectItem(state, `USER#${ns}-A|REGION#00000000`, { score: 0 });
      expectItem(state, `ORDER#${ns}-o1|ORDER`, { hasPaidEventHandled: true, canceled: true });
    },
  }),
  'case 4: region changed, then an order paid (causality disentangled by RegionVersion)': (ns) => ({
    name: 'case 4',
    setup: [user(ns, 'A', 1, 'Ann', 'us', 0, 'UserCreated'), paid(ns, 'o0', 'A', 5, 0)],
    events: [user(ns, 'A', 2, 'Ann', 'eu', 1, 'UserRegionChanged'), paid(ns, 'o1', 'A', 10, 1)],
    partitions: [`USER#${ns}-A`, `ORDER#${ns}-o0`, `ORDER#${ns}-o1`],
    expectation: (state) => {
      expectItem(state, `USER#${ns}-A|REGION#00000000`, { score: 5, region: 'us' });
      expectItem(state, `USER#${ns}-A|REGION#00000001`, { score: 10, region: 'eu' });
      expectItem(state, `USER#${ns}-A|USER`, { region: 'eu', regionVersion: 1, version: 2 });
    },
  }),
  'case 5: user updated twice (entity synchronizer with EntityVersion)': (ns) => ({
    name: 'case 5',
    setup: [user(ns, 'A', 1, 'Ann', 'us', 0, 'UserCreated')],
    events: [user(ns, 'A', 2, 'Anna', 'us', 0), user(ns, 'A', 3, 'Annabel', 'us', 0)],
    partitions: [`USER#${ns}-A`],
    expectation: (state) => {
      expectItem(state, `USER#${ns}-A|USER`, { name: 'Annabel', version: 3 });
    },
  }),
};

function expectItem(
  state: Record<string, Record<string, unknown>>,
  key: string,
  fields: Record<string, unknown>,
): void {
  const item = state[key];
  if (!item)
    throw new Error(
      `expected item ${key} in the final state; have ${Object.keys(state).join(', ')}`,
    );
  for (const [name, value] of Object.entries(fields)) {
    if (item[name] !== value)
      throw new Error(
        `expected ${key}.${name} = ${JSON.stringify(value)}, got ${JSON.stringify(item[name])}`,
      );
  }
}
