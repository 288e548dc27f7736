import { describe, expect, it } from 'vitest';
import { outboxBucket } from '../../../lib/envelope/outbox-item.js';
import {
  DuplicateActionError,
  EventTooLargeError,
  InvalidActionError,
  ItemTooLargeError,
  TransactionTooLargeError,
} from '../../../lib/transaction/errors.js';
import { Transaction } from '../../../lib/transaction/transaction.js';
import { FIXED_NOW, testSettings } from '../../helpers/settings.js';

const ttl = Math.floor(FIXED_NOW.getTime() / 1000) + 604_800;

describe('Class: Transaction', () => {
  describe('Method: params', () => {
    it('guards a create with attribute_not_exists and writes version 1', () => {
      // Prepare
      const tx = new Transaction(testSettings());

      // Act
      tx.put({ pk: 'ORDER#1', sk: 'ORDER', total: 10 }, { expectedVersion: 0 });

      // Assess
      expect(tx.params()).toStrictEqual({
        ClientRequestToken: tx.clientRequestToken,
        TransactItems: [
          {
            Put: {
              TableName: 'orders',
              Item: { pk: 'ORDER#1', sk: 'ORDER', total: 10, version: 1 },
              ConditionExpression: 'attribute_not_exists(#n0)',
              ExpressionAttributeNames: { '#n0': 'pk' },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            },
          },
        ],
      });
    });

    it('guards a put on the expected version and writes the next one', () => {
      const tx = new Transaction(testSettings());

      tx.put({ pk: 'ORDER#1', sk: 'ORDER', total: 12 }, { expectedVersion: 4 });

      expect(tx.params().TransactItems).toStrictEqual([
        {
          Put: {
            TableName: 'orders',
            Item: { pk: 'ORDER#1', sk: 'ORDER', total: 12, version: 5 },
            ConditionExpression: '#n0 = :v0',
            ExpressionAttributeNames: { '#n0': 'version' },
            ExpressionAttributeValues: { ':v0': 4 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ]);
    });

    it('leaves an unguarded put without condition', () => {
      const tx = new Transaction(testSettings());

      tx.put({ pk: 'A', sk: 'B', x: 1 });

      expect(tx.params().TransactItems).toStrictEqual([
        { Put: { TableName: 'orders', Item: { pk: 'A', sk: 'B', x: 1 } } },
      ]);
    });

    it('sets, removes and bumps the version in an update, with a caller condition', () => {
      const tx = new Transaction(testSettings());

      tx.update(
        { pk: 'ORDER#1', sk: 'ORDER' },
        { status: 'paid', note: undefined },
        { expectedVersion: 2, condition: { attr: 'status', eq: 'placed' } },
      );

      expect(tx.params().TransactItems).toStrictEqual([
        {
          Update: {
            TableName: 'orders',
            Key: { pk: 'ORDER#1', sk: 'ORDER' },
            UpdateExpression: 'SET #n0 = :v0, #n2 = :v1 REMOVE #n1',
            ConditionExpression: '#n2 = :v2 AND #n0 = :v3',
            ExpressionAttributeNames: { '#n0': 'status', '#n1': 'note', '#n2': 'version' },
            ExpressionAttributeValues: { ':v0': 'paid', ':v1': 3, ':v2': 2, ':v3': 'placed' },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ]);
    });

    it('guards a delete and renders a check from named clauses', () => {
      const tx = new Transaction(testSettings());

      tx.delete({ pk: 'ORDER#1', sk: 'ORDER' }, { expectedVersion: 7 });
      tx.check(
        { pk: 'USER#1', sk: 'USER' },
        {
          and: [
            { attr: 'status', in: ['active', 'vip'] },
            { not: { attr: 'blocked', exists: true } },
          ],
        },
        { tableName: 'users' },
      );

      expect(tx.params().TransactItems).toStrictEqual([
        {
          Delete: {
            TableName: 'orders',
            Key: { pk: 'ORDER#1', sk: 'ORDER' },
            ConditionExpression: '#n0 = :v0',
            ExpressionAttributeNames: { '#n0': 'version' },
            ExpressionAttributeValues: { ':v0': 7 },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          ConditionCheck: {
            TableName: 'users',
            Key: { pk: 'USER#1', sk: 'USER' },
            ConditionExpression: '(#n0 IN (:v0, :v1) AND (NOT attribute_exists(#n1)))',
            ExpressionAttributeNames: { '#n0': 'status', '#n1': 'blocked' },
            ExpressionAttributeValues: { ':v0': 'active', ':v1': 'vip' },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ]);
    });

    it('writes an outbox item keyed by aggregate and version, with TTL and marker', () => {
      const tx = new Transaction(testSettings());

      const event = tx.publish({
        type: 'OrderPlaced',
        aggregate: { type: 'Order', id: '1', version: 1 },
        payload: { total: 10 },
      });

      expect(tx.params().TransactItems).toStrictEqual([
        {
          Put: {
            TableName: 'orders',
            Item: {
              pk: 'OUTBOX#Order#1',
              sk: '0000000000000001#000',
              _eventbox: 'outbox',
              eventId: event.id,
              eventType: 'OrderPlaced',
              source: 'orders',
              time: '2026-01-02T03:04:05.678Z',
              aggregateType: 'Order',
              aggregateId: '1',
              aggregateVersion: 1,
              detail: JSON.stringify(event),
              outboxBucket: `2026-01-02T03#${outboxBucket(event.time, 'Order', '1').split('#')[1]}`,
              outboxTime: `2026-01-02T03:04:05.678Z#${event.id}`,
              ttl,
            },
            ConditionExpression: 'attribute_not_exists(#n0)',
            ExpressionAttributeNames: { '#n0': 'pk' },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ]);
    });

    it('gives two events of the same aggregate version distinct sort keys', () => {
      const tx = new Transaction(testSettings());
      const aggregate = { type: 'Order', id: '1', version: 1 };

      tx.publish({ type: 'OrderPlaced', aggregate, payload: null });
      tx.publish({ type: 'OrderItemAdded', aggregate, payload: null });

      const keys = tx.params().TransactItems?.map((t) => t.Put?.Item?.sk);
      expect(keys).toStrictEqual(['0000000000000001#000', '0000000000000001#001']);
    });

    it('honours custom key names, version attribute, outbox table and TTL', () => {
      const layout = {
        tableName: 'orders',
        partitionKey: 'PK',
        sortKey: 'SK',
        versionAttribute: 'rev',
      };
      const tx = new Transaction(
        testSettings({
          layout,
          outbox: {
            layout: { ...layout, tableName: 'outbox' },
            ttlSeconds: 60,
            ttlAttribute: 'expiresAt',
          },
        }),
      );

      tx.put({ PK: 'A', SK: 'B' }, { expectedVersion: 0 });
      tx.publish({ type: 'Created', aggregate: { type: 'A', id: 'A', version: 1 }, payload: {} });

      const [entity, outbox] = tx.params().TransactItems ?? [];
      expect(entity?.Put?.Item).toStrictEqual({ PK: 'A', SK: 'B', rev: 1 });
      expect(outbox?.Put).toMatchObject({
        TableName: 'outbox',
        Item: {
          PK: 'OUTBOX#A#A',
          SK: '0000000000000001#000',
          expiresAt: Math.floor(FIXED_NOW.getTime() / 1000) + 60,
        },
      });
    });
  });

  describe('Method: publish', () => {
    it('returns the envelope and lists it in events', () => {
      const tx = new Transaction(testSettings());

      const event = tx.publish({
        type: 'OrderPlaced',
        aggregate: { type: 'Order', id: '1', version: 1 },
        payload: 1,
        correlationId: 'c',
      });

      expect(tx.events).toStrictEqual([event]);
      expect(event).toMatchObject({ source: 'orders', correlationId: 'c' });
    });

    it('rejects an event over the bus entry limit before anything is sent', () => {
      const tx = new Transaction(testSettings({ maxEventBytes: 256 * 1024 }));

      expect(() =>
        tx.publish({
          type: 'Big',
          aggregate: { type: 'Order', id: '1', version: 1 },
          payload: 'x'.repeat(256 * 1024),
        }),
      ).toThrow(EventTooLargeError);
      expect(tx.params().TransactItems).toStrictEqual([]);
    });

    it('rejects an event under the bus limit whose outbox item exceeds 400 KB, saying which limit', () => {
      const tx = new Transaction(testSettings());

      expect(() =>
        tx.publish({
          type: 'Big',
          aggregate: { type: 'Order', id: '1', version: 1 },
          payload: 'x'.repeat(500 * 1024),
        }),
      ).toThrow(
        expect.objectContaining({
          name: 'EventTooLargeError',
          as: 'outbox item',
          limit: 409_600,
          message: expect.stringMatching(
            /as an outbox item; DynamoDB items are at most 409600 bytes, so an event must also fit its outbox item/,
          ),
        }),
      );
      expect(tx.params().TransactItems).toStrictEqual([]);
    });
  });

  describe('Limits', () => {
    it('rejects the 101st action and keeps the first 100', () => {
      const tx = new Transaction(testSettings());
      for (let i = 0; i < 100; i++) tx.put({ pk: `P#${i}`, sk: 'S' });

      expect(() => tx.put({ pk: 'P#100', sk: 'S' })).toThrow(TransactionTooLargeError);
      expect(tx.params().TransactItems).toHaveLength(100);
    });

    it('rejects an item over 400 KB', () => {
      const tx = new Transaction(testSettings());

      expect(() => tx.put({ pk: 'P', sk: 'S', blob: 'x'.repeat(400 * 1024) })).toThrow(
        ItemTooLargeError,
      );
    });

    it('rejects a transaction over 4 MB', () => {
      const tx = new Transaction(testSettings());
      for (let i = 0; i < 10; i++)
        tx.put({ pk: `P#${i}`, sk: 'S', blob: 'x'.repeat(400 * 1024 - 100) });

      expect(() => tx.put({ pk: 'P#10', sk: 'S', blob: 'x'.repeat(400 * 1024 - 100) })).toThrow(
        /Transaction too large: 11 actions and \d+ bytes; the limit is 100 actions and 4194304 bytes/,
      );
    });

    it('rejects two actions on one item', () => {
      const tx = new Transaction(testSettings());
      tx.put({ pk: 'P', sk: 'S' });

      expect(() => tx.update({ pk: 'P', sk: 'S' }, { x: 1 })).toThrow(DuplicateActionError);
    });
  });

  describe('Validation', () => {
    it.each([
      [
        'a put without sort key',
        (tx: Transaction) => tx.put({ pk: 'P' }),
        /needs a non-empty string "sk"/,
      ],
      [
        'a numeric key',
        (tx: Transaction) => tx.put({ pk: 1, sk: 'S' }),
        /needs a non-empty string "pk"/,
      ],
      [
        'a negative expected version',
        (tx: Transaction) => tx.put({ pk: 'P', sk: 'S' }, { expectedVersion: -1 }),
        /expectedVersion must be an integer >= 0/,
      ],
      [
        'a fractional expected version',
        (tx: Transaction) => tx.update({ pk: 'P', sk: 'S' }, { a: 1 }, { expectedVersion: 1.5 }),
        /integer/,
      ],
      [
        'a delete expecting version 0',
        (tx: Transaction) => tx.delete({ pk: 'P', sk: 'S' }, { expectedVersion: 0 }),
        />= 1/,
      ],
      [
        'a put whose version contradicts the guard',
        (tx: Transaction) => tx.put({ pk: 'P', sk: 'S', version: 9 }, { expectedVersion: 1 }),
        /writes 2/,
      ],
      [
        'an update of a key',
        (tx: Transaction) => tx.update({ pk: 'P', sk: 'S' }, { pk: 'Q' }),
        /cannot change pk/,
      ],
      [
        'an update of the guarded version',
        (tx: Transaction) =>
          tx.update({ pk: 'P', sk: 'S' }, { version: 3 }, { expectedVersion: 2 }),
        /cannot change version/,
      ],
      [
        'an empty update',
        (tx: Transaction) => tx.update({ pk: 'P', sk: 'S' }, {}),
        /has no changes/,
      ],
      [
        'a key with extra attributes',
        (tx: Transaction) => tx.delete({ pk: 'P', sk: 'S', x: '1' }),
        /got also x/,
      ],
      [
        'a condition with two clauses',
        (tx: Transaction) => tx.check({ pk: 'P', sk: 'S' }, { attr: 'a', eq: 1, ne: 2 } as never),
        /exactly one of/,
      ],
      [
        'an empty "in"',
        (tx: Transaction) => tx.check({ pk: 'P', sk: 'S' }, { attr: 'a', in: [] }),
        /1 to 100 values/,
      ],
      [
        'an empty "and"',
        (tx: Transaction) => tx.check({ pk: 'P', sk: 'S' }, { and: [] }),
        /at least one condition/,
      ],
    ])('rejects %s with InvalidActionError', (_, act, message) => {
      const tx = new Transaction(testSettings());

      expect(() => act(tx)).toThrow(InvalidActionError);
      expect(() => act(new Transaction(testSettings()))).toThrow(message);
    });
  });
});
