import { describe, expect, it } from 'vitest';
import { InvalidActionError } from '../../../lib/transaction/errors.js';
import { Transaction } from '../../../lib/transaction/transaction.js';
import {
  add,
  addToSet,
  append,
  ifNotExists,
  removeFromSet,
} from '../../../lib/transaction/update-operations.js';
import { testSettings } from '../../helpers/settings.js';

describe('Update operations', () => {
  describe('Method: update with operations', () => {
    it('renders add, append and ifNotExists as SET clauses that need no read', () => {
      // Prepare
      const tx = new Transaction(testSettings());

      // Act
      tx.update(
        { pk: 'STOCK#1', sk: 'STOCK' },
        { count: add(-2), moves: append([{ by: 'order-7' }]), createdAt: ifNotExists('t0') },
      );

      // Assess
      expect(tx.params().TransactItems).toStrictEqual([
        {
          Update: {
            TableName: 'orders',
            Key: { pk: 'STOCK#1', sk: 'STOCK' },
            UpdateExpression:
              'SET #n0 = if_not_exists(#n0, :v0) + :v1, #n1 = list_append(if_not_exists(#n1, :v2), :v3), #n2 = if_not_exists(#n2, :v4)',
            ExpressionAttributeNames: { '#n0': 'count', '#n1': 'moves', '#n2': 'createdAt' },
            ExpressionAttributeValues: {
              ':v0': 0,
              ':v1': -2,
              ':v2': [],
              ':v3': [{ by: 'order-7' }],
              ':v4': 't0',
            },
          },
        },
      ]);
    });

    it('renders set additions and removals as ADD and DELETE beside SET and REMOVE', () => {
      const tx = new Transaction(testSettings());

      tx.update(
        { pk: 'USER#1', sk: 'USER' },
        { tags: addToSet(['gold']), badges: removeFromSet([3]), name: 'Ann', nick: undefined },
        { expectedVersion: 4 },
      );

      expect(tx.params().TransactItems?.[0]?.Update).toMatchObject({
        UpdateExpression: 'SET #n2 = :v2, #n4 = :v3 REMOVE #n3 ADD #n0 :v0 DELETE #n1 :v1',
        ExpressionAttributeNames: {
          '#n0': 'tags',
          '#n1': 'badges',
          '#n2': 'name',
          '#n3': 'nick',
          '#n4': 'version',
        },
        ExpressionAttributeValues: {
          ':v0': new Set(['gold']),
          ':v1': new Set([3]),
          ':v2': 'Ann',
          ':v3': 5,
          ':v4': 4,
        },
      });
    });
  });

  describe('Function: builders', () => {
    it.each([
      ['add of NaN', () => add(Number.NaN), /finite number/],
      ['append of nothing', () => append([]), /non-empty array/],
      ['a mixed set', () => addToSet(['a', 1] as never), /strings or of numbers, not both/],
      ['an empty set', () => removeFromSet([]), /non-empty set/],
      ['ifNotExists of undefined', () => ifNotExists(undefined), /needs a value/],
    ])('refuses %s with a typed error', (_name, build, message) => {
      expect(build).toThrow(InvalidActionError);
      expect(build).toThrow(message);
    });
  });
});
