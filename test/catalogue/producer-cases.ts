import assert from 'node:assert/strict';
import type { EventInput } from '../../lib/envelope/envelope.js';
import {
  DuplicateActionError,
  EventBox,
  EventTooLargeError,
  InvalidActionError,
  InvalidEventError,
  InvalidOptionsError,
  ItemTooLargeError,
  TransactionTooLargeError,
} from '../../lib/producer/index.js';
import type { BadInputCase } from './case.js';
import { offlineBox } from './context.js';

const valid: EventInput = {
  type: 'OrderPlaced',
  aggregate: { type: 'Order', id: 'o-1', version: 1 },
  payload: { total: 10 },
};

/** Publishes `input` and expects `error` before any request is sent. */
function rejectsEvent(
  input: unknown,
  error: new (...args: never[]) => Error,
  message: RegExp,
  options = {},
) {
  return async () => {
    const { box, sent } = offlineBox(options);
    const tx = box.transaction();
    assert.throws(
      () => tx.publish(input as EventInput),
      (e: unknown) => e instanceof error && message.test((e as Error).message),
    );
    await tx.commit();
    assert.equal(sent.count, 0, 'nothing may be sent');
  };
}

/** Runs `act` on a fresh transaction and expects `error`, raised before anything is sent. */
function rejectsAction(
  act: (tx: ReturnType<EventBox['transaction']>) => void,
  error: new (...args: never[]) => Error,
  message: RegExp,
) {
  return async () => {
    const { box, sent } = offlineBox();
    const tx = box.transaction();
    assert.throws(
      () => act(tx),
      (e: unknown) => e instanceof error && message.test((e as Error).message),
    );
    assert.equal(sent.count, 0, 'nothing may be sent');
  };
}

export const producerCases: BadInputCase[] = [
  {
    id: 'P01',
    stage: 'producer',
    input: 'event without a type',
    outcome: '`InvalidEventError` (type: must not be empty) before anything is written',
    check: rejectsEvent({ ...valid, type: '' }, InvalidEventError, /type: must not be empty/),
  },
  {
    id: 'P02',
    stage: 'producer',
    input: 'aggregate version 0',
    outcome: '`InvalidEventError` (aggregate.version: must be at least 1)',
    check: rejectsEvent(
      { ...valid, aggregate: { ...valid.aggregate, version: 0 } },
      InvalidEventError,
      /aggregate.version: must be at least 1/,
    ),
  },
  {
    id: 'P03',
    stage: 'producer',
    input: 'negative aggregate version',
    outcome: '`InvalidEventError` (aggregate.version: must be at least 1)',
    check: rejectsEvent(
      { ...valid, aggregate: { ...valid.aggregate, version: -3 } },
      InvalidEventError,
      /aggregate.version: must be at least 1/,
    ),
  },
  {
    id: 'P04',
    stage: 'producer',
    input: 'missing aggregate version',
    outcome: '`InvalidEventError` (aggregate.version)',
    check: rejectsEvent(
      { ...valid, aggregate: { type: 'Order', id: 'o-1' } },
      InvalidEventError,
      /aggregate.version/,
    ),
  },
  {
    id: 'P05',
    stage: 'producer',
    input: 'fractional aggregate version',
    outcome: '`InvalidEventError` (aggregate.version: must be an integer)',
    check: rejectsEvent(
      { ...valid, aggregate: { ...valid.aggregate, version: 1.5 } },
      InvalidEventError,
      /must be an integer/,
    ),
  },
  {
    id: 'P06',
    stage: 'producer',
    input: 'aggregate type containing "#"',
    outcome: '`InvalidEventError` (aggregate.type: must not contain "#")',
    check: rejectsEvent(
      { ...valid, aggregate: { ...valid.aggregate, type: 'Or#der' } },
      InvalidEventError,
      /must not contain "#"/,
    ),
  },
  {
    id: 'P07',
    stage: 'producer',
    input: 'missing payload',
    outcome: '`InvalidEventError` (payload: is required)',
    check: rejectsEvent(
      { ...valid, payload: undefined },
      InvalidEventError,
      /payload: is required/,
    ),
  },
  {
    id: 'P08',
    stage: 'producer',
    input: 'payload that JSON cannot carry (a BigInt)',
    outcome: '`InvalidEventError` (payload: cannot be serialized to JSON)',
    check: rejectsEvent(
      { ...valid, payload: { n: 10n } },
      InvalidEventError,
      /cannot be serialized to JSON/,
    ),
  },
  {
    id: 'P09',
    stage: 'producer',
    input: 'payload with a cycle',
    outcome: '`InvalidEventError` (payload: cannot be serialized to JSON)',
    check: rejectsEvent(
      {
        ...valid,
        payload: (() => {
          const p: Record<string, unknown> = {};
          p.self = p;
          return p;
        })(),
      },
      InvalidEventError,
      /cannot be serialized to JSON/,
    ),
  },
  {
    id: 'P10',
    stage: 'producer',
    input: 'non-finite number in the payload (NaN)',
    outcome: '`InvalidEventError` (not representable in JSON)',
    check: rejectsEvent(
      { ...valid, payload: { n: Number.NaN } },
      InvalidEventError,
      /not representable in JSON/,
    ),
  },
  {
    id: 'P11',
    stage: 'producer',
    input: 'unknown field in the event (a typo such as `tenant`)',
    outcome: '`InvalidEventError` naming the field',
    check: rejectsEvent({ ...valid, tenant: 't-1' }, InvalidEventError, /tenant/),
  },
  {
    id: 'P12',
    stage: 'producer',
    input: 'event over the bus entry limit (300 KB with a 256 KB limit)',
    outcome: '`EventTooLargeError` with the size and the limit',
    check: rejectsEvent(
      { ...valid, payload: 'x'.repeat(300 * 1024) },
      EventTooLargeError,
      /the limit is 262144 bytes/,
      { maxEventBytes: 262_144 },
    ),
  },
  {
    id: 'P13',
    stage: 'producer',
    input: 'entity item over 400 KB',
    outcome: '`ItemTooLargeError` naming the item',
    check: rejectsAction(
      (tx) => tx.put({ pk: 'A', sk: 'B', blob: 'x'.repeat(410 * 1024) }),
      ItemTooLargeError,
      /Item orders\[pk=A, sk=B\]/,
    ),
  },
  {
    id: 'P14',
    stage: 'producer',
    input: '101 actions in one transaction',
    outcome: '`TransactionTooLargeError` raised by the 101st action',
    check: rejectsAction(
      (tx) => {
        for (let i = 0; i <= 100; i++) tx.put({ pk: `P#${i}`, sk: 'S' });
      },
      TransactionTooLargeError,
      /101 actions/,
    ),
  },
  {
    id: 'P15',
    stage: 'producer',
    input: 'transaction over 4 MB',
    outcome: '`TransactionTooLargeError` with the bytes and the limit',
    check: rejectsAction(
      (tx) => {
        for (let i = 0; i <= 10; i++)
          tx.put({ pk: `P#${i}`, sk: 'S', blob: 'x'.repeat(399 * 1024) });
      },
      TransactionTooLargeError,
      /the limit is 100 actions and 4194304 bytes/,
    ),
  },
  {
    id: 'P16',
    stage: 'producer',
    input: 'two actions on the same item',
    outcome: '`DuplicateActionError` naming both actions',
    check: rejectsAction(
      (tx) => tx.put({ pk: 'A', sk: 'B' }).delete({ pk: 'A', sk: 'B' }),
      DuplicateActionError,
      /Actions #0 \(put\) and #1 \(delete\)/,
    ),
  },
  {
    id: 'P17',
    stage: 'producer',
    input: 'item without its sort key',
    outcome: '`InvalidActionError` (needs a non-empty string "sk")',
    check: rejectsAction(
      (tx) => tx.put({ pk: 'A' }),
      InvalidActionError,
      /needs a non-empty string "sk"/,
    ),
  },
  {
    id: 'P18',
    stage: 'producer',
    input: 'negative expected version',
    outcome: '`InvalidActionError` (expectedVersion must be an integer >= 0)',
    check: rejectsAction(
      (tx) => tx.update({ pk: 'A', sk: 'B' }, { x: 1 }, { expectedVersion: -1 }),
      InvalidActionError,
      /expectedVersion must be an integer >= 0/,
    ),
  },
  {
    id: 'P19',
    stage: 'producer',
    input: "event for another tenant than the box's",
    outcome: "`InvalidEventError` (tenantId is not this box's tenant)",
    check: rejectsEvent(
      { ...valid, tenantId: 'tenant-b' },
      InvalidEventError,
      /"tenant-b" is not this box's tenant "tenant-a"/,
      { tenantId: 'tenant-a' },
    ),
  },
  {
    id: 'P20',
    stage: 'producer',
    input: 'source reserved by AWS (`aws.orders`)',
    outcome: '`InvalidOptionsError` when the box is created',
    check: async () => {
      assert.throws(
        () => new EventBox({ tableName: 't', source: 'aws.orders' }),
        InvalidOptionsError,
      );
    },
  },
  {
    id: 'P21',
    stage: 'producer',
    input: 'event under the 1 MB bus limit but over what an outbox item holds (500 KB)',
    outcome: '`EventTooLargeError` naming the 400 KB outbox item limit',
    check: rejectsEvent(
      { ...valid, payload: 'x'.repeat(500 * 1024) },
      EventTooLargeError,
      /as an outbox item; DynamoDB items are at most 409600 bytes/,
    ),
  },
];
