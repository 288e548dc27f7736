import { describe, expect, it } from 'vitest';
import { ConsumerTransaction } from '../../../lib/consumer/consumer-transaction.js';
import { InvalidActionError } from '../../../lib/transaction/errors.js';
import { planCreate } from '../../../lib/transaction/planners.js';
import { envelope } from '../../helpers/inbox.js';
import { testSettings } from '../../helpers/settings.js';

const settings = testSettings();
const incoming = envelope({
  type: 'OrderPaid',
  aggregate: { type: 'Order', id: 'o', version: 2 },
  payload: {},
  correlationId: 'flow-1',
  tenantId: 't-1',
});
const inboxAction = planCreate(settings.layout, 'inbox', { pk: 'INBOX#c#e', sk: 'INBOX' });

describe('Class: ConsumerTransaction', () => {
  it('starts with the inbox record', () => {
    const tx = new ConsumerTransaction(settings, inboxAction, incoming);

    expect(tx.params().TransactItems).toStrictEqual([inboxAction.transactItem]);
  });

  describe('Method: synchronize', () => {
    it('writes the snapshot only over an absent item or a lower version', () => {
      const tx = new ConsumerTransaction(settings, inboxAction, incoming);

      tx.synchronize({ pk: 'USER#1', sk: 'USER', name: 'Ann' }, { version: 7 });

      expect(tx.params().TransactItems?.[1]).toStrictEqual({
        Put: {
          TableName: 'orders',
          Item: { pk: 'USER#1', sk: 'USER', name: 'Ann', version: 7 },
          ConditionExpression: 'attribute_not_exists(#n0) OR #n1 < :v0',
          ExpressionAttributeNames: { '#n0': 'pk', '#n1': 'version' },
          ExpressionAttributeValues: { ':v0': 7 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      });
    });

    it('in merge mode sets the snapshot attributes under the same condition and keeps the rest', () => {
      const tx = new ConsumerTransaction(settings, inboxAction, incoming);

      tx.synchronize({ pk: 'USER#1', sk: 'USER', name: 'Ann' }, { version: 7, mode: 'merge' });

      expect(tx.params().TransactItems?.[1]).toStrictEqual({
        Update: {
          TableName: 'orders',
          Key: { pk: 'USER#1', sk: 'USER' },
          UpdateExpression: 'SET #n2 = :v1, #n1 = :v2',
          ConditionExpression: 'attribute_not_exists(#n0) OR #n1 < :v0',
          ExpressionAttributeNames: { '#n0': 'pk', '#n1': 'version', '#n2': 'name' },
          ExpressionAttributeValues: { ':v0': 7, ':v1': 'Ann', ':v2': 7 },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      });
    });

    it.each([
      ['version 0', { pk: 'U', sk: 'U' }, 0],
      ['a snapshot whose version disagrees', { pk: 'U', sk: 'U', version: 3 }, 4],
    ])('rejects %s', (_, snapshot, version) => {
      const tx = new ConsumerTransaction(settings, inboxAction, incoming);

      expect(() => tx.synchronize(snapshot, { version })).toThrow(InvalidActionError);
    });
  });

  describe('Method: publish', () => {
    it('links a follow-up event to the event being handled', () => {
      const tx = new ConsumerTransaction(settings, inboxAction, incoming);

      const followUp = tx.publish({
        type: 'PointsAwarded',
        aggregate: { type: 'User', id: 'u', version: 3 },
        payload: {},
      });

      expect(followUp).toMatchObject({
        causationId: incoming.id,
        correlationId: 'flow-1',
        tenantId: 't-1',
      });
    });
  });

  describe('Method: without', () => {
    it('keeps the inbox record and every action but the dropped ones, with a new request token', () => {
      const tx = new ConsumerTransaction(settings, inboxAction, incoming);
      tx.synchronize({ pk: 'USER#1', sk: 'USER' }, { version: 2 });
      tx.put({ pk: 'AUDIT#1', sk: 'AUDIT' });
      const event = tx.publish({
        type: 'Seen',
        aggregate: { type: 'User', id: '1', version: 2 },
        payload: {},
      });

      const copy = tx.without(new Set([1]));

      expect(copy.params().TransactItems).toStrictEqual([
        tx.params().TransactItems?.[0],
        tx.params().TransactItems?.[2],
        tx.params().TransactItems?.[3],
      ]);
      expect(copy.events).toStrictEqual([event]);
      expect(copy.clientRequestToken).not.toBe(tx.clientRequestToken);
    });
  });
});
