import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  ConditionFailedError,
  TransactionCanceledError,
  TransactionConflictError,
  TransactionStateError,
  VersionConflictError,
} from '../../../lib/transaction/errors.js';
import { planCreate } from '../../../lib/transaction/planners.js';
import { Transaction } from '../../../lib/transaction/transaction.js';
import { testSettings } from '../../helpers/settings.js';

const settings = testSettings();
const ddb = mockClient(settings.client);

function canceled(
  reasons: Array<{ Code: string; Item?: Record<string, unknown> }>,
): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: reasons.map((r) => ({
      Code: r.Code,
      ...(r.Item ? { Item: marshall(r.Item) } : {}),
    })),
  });
}

function orderTransaction(): Transaction {
  const tx = new Transaction(settings);
  tx.update({ pk: 'ORDER#1', sk: 'ORDER' }, { status: 'paid' }, { expectedVersion: 3 });
  tx.publish({ type: 'OrderPaid', aggregate: { type: 'Order', id: '1', version: 4 }, payload: {} });
  return tx;
}

describe('Class: Transaction', () => {
  beforeEach(() => {
    ddb.reset();
  });

  describe('Method: commit', () => {
    it('sends exactly one TransactWriteItems and returns the events', async () => {
      // Prepare
      ddb.on(TransactWriteCommand).resolves({});
      const tx = orderTransaction();

      // Act
      const result = await tx.commit();

      // Assess
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
      expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input).toStrictEqual(tx.params());
      expect(result.events).toStrictEqual(tx.events);
    });

    it('sends nothing for an empty transaction', async () => {
      const result = await new Transaction(settings).commit();

      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
      expect(result.events).toStrictEqual([]);
    });

    it('refuses changes and a second commit once committed', async () => {
      ddb.on(TransactWriteCommand).resolves({});
      const tx = orderTransaction();
      await tx.commit();

      await expect(tx.commit()).rejects.toThrow(TransactionStateError);
      expect(() => tx.put({ pk: 'A', sk: 'B' })).toThrow(/is committed; start a new one/);
    });

    it('maps a stale version to VersionConflictError with expected and found versions', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(
          canceled([
            { Code: 'ConditionalCheckFailed', Item: { pk: 'ORDER#1', sk: 'ORDER', version: 5 } },
            { Code: 'None' },
          ]),
        );

      const error = await orderTransaction()
        .commit()
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(VersionConflictError);
      expect(error).toBeInstanceOf(TransactionCanceledError);
      expect(error).toMatchObject({
        expectedVersion: 3,
        actualVersion: 5,
        action: {
          index: 0,
          kind: 'update',
          tableName: 'orders',
          key: { pk: 'ORDER#1', sk: 'ORDER' },
        },
        message:
          'Version conflict on orders[pk=ORDER#1, sk=ORDER]: expected version 3, found version 5',
      });
      expect((error as VersionConflictError).failures).toHaveLength(1);
    });

    it('maps a missing item under a version guard to VersionConflictError without a found version', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(canceled([{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }]));

      const error = await orderTransaction()
        .commit()
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(VersionConflictError);
      expect((error as VersionConflictError).actualVersion).toBeUndefined();
    });

    it('maps an existing event for the aggregate version to VersionConflictError on the publish', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(canceled([{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }]));

      const error = await orderTransaction()
        .commit()
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(VersionConflictError);
      expect(error).toMatchObject({ action: { kind: 'publish', index: 1 }, expectedVersion: 3 });
    });

    it('maps a failed create to AlreadyExistsError', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(
          canceled([{ Code: 'ConditionalCheckFailed', Item: { pk: 'A', sk: 'B', version: 1 } }]),
        );
      const tx = new Transaction(settings).put({ pk: 'A', sk: 'B' }, { expectedVersion: 0 });

      await expect(tx.commit()).rejects.toThrow(AlreadyExistsError);
    });

    it("names a failed create of an action's planner by the planner's own error", async () => {
      class ClaimTakenError extends TransactionCanceledError {}
      ddb
        .on(TransactWriteCommand)
        .rejects(canceled([{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }]));
      const tx = new Transaction(settings).put({ pk: 'A', sk: 'B' });
      tx.addAction(
        planCreate(
          settings.layout,
          'claim',
          { pk: 'C', sk: 'D' },
          {},
          (failure, failures, o) =>
            new ClaimTakenError(`claim ${failure.action.key.pk} taken`, failures, o),
        ),
      );

      const error = await tx.commit().catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ClaimTakenError);
      expect(error).toMatchObject({
        message: 'claim C taken',
        failures: [{ action: { index: 1, kind: 'claim' } }],
      });
    });

    it('maps a failed create without its own naming to AlreadyExistsError, and a failed plain condition to ConditionFailedError', async () => {
      ddb.on(TransactWriteCommand).rejects(canceled([{ Code: 'ConditionalCheckFailed' }]));
      const created = new Transaction(settings);
      created.addAction(planCreate(settings.layout, 'claim', { pk: 'C', sk: 'D' }));
      const checked = new Transaction(settings).check(
        { pk: 'C', sk: 'D' },
        { attr: 'x', exists: true },
      );

      await expect(created.commit()).rejects.toThrow(AlreadyExistsError);
      const error = await checked.commit().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConditionFailedError);
      expect(error).not.toBeInstanceOf(AlreadyExistsError);
    });

    it('maps a caller condition that failed while the version matched to ConditionFailedError', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(
          canceled([
            { Code: 'ConditionalCheckFailed', Item: { pk: 'A', sk: 'B', version: 2, status: 'x' } },
          ]),
        );
      const tx = new Transaction(settings).update(
        { pk: 'A', sk: 'B' },
        { n: 1 },
        { expectedVersion: 2, condition: { attr: 'status', eq: 'open' } },
      );

      await expect(tx.commit()).rejects.toThrow(ConditionFailedError);
    });

    it('maps a failed check to ConditionFailedError carrying the stored item', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(
          canceled([
            { Code: 'None' },
            { Code: 'ConditionalCheckFailed', Item: { pk: 'U', sk: 'U', blocked: true } },
          ]),
        );
      const tx = new Transaction(settings)
        .put({ pk: 'A', sk: 'B' })
        .check({ pk: 'U', sk: 'U' }, { attr: 'blocked', exists: false });

      const error = await tx.commit().catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ConditionFailedError);
      expect((error as ConditionFailedError).failures[0]?.item).toStrictEqual({
        pk: 'U',
        sk: 'U',
        blocked: true,
      });
    });

    it('maps TransactionConflict to the retryable TransactionConflictError', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(canceled([{ Code: 'TransactionConflict' }, { Code: 'None' }]));

      await expect(orderTransaction().commit()).rejects.toThrow(TransactionConflictError);
    });

    it('names every failed action of other cancellations', async () => {
      ddb
        .on(TransactWriteCommand)
        .rejects(canceled([{ Code: 'ThrottlingError' }, { Code: 'ValidationError' }]));

      const error = await orderTransaction()
        .commit()
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(TransactionCanceledError);
      expect((error as Error).message).toBe(
        'Transaction cancelled: ThrottlingError on orders[pk=ORDER#1, sk=ORDER] (#0 update); ValidationError on orders[pk=OUTBOX#Order#1, sk=0000000000000004#000] (#1 publish)',
      );
      expect((error as Error).cause).toBeInstanceOf(TransactionCanceledException);
    });

    it('rethrows any other SDK error unchanged', async () => {
      const throttled = Object.assign(new Error('Rate exceeded'), {
        name: 'ProvisionedThroughputExceededException',
      });
      ddb.on(TransactWriteCommand).rejects(throttled);

      await expect(orderTransaction().commit()).rejects.toBe(throttled);
    });
  });
});
