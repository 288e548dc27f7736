import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  EventBox,
  ItemTooLargeError,
  TransactionConflictError,
  TransactionTooLargeError,
  VersionConflictError,
} from '../../lib/producer/index.js';
import {
  add,
  addToSet,
  append,
  ifNotExists,
  removeFromSet,
} from '../../lib/transaction/update-operations.js';
import { countRequests, createTable, type TestTable } from '../helpers/aws.js';
import { readStream } from '../helpers/streams.js';

/**
 * The DynamoDB contract of the producer, run unchanged on every engine the suite started:
 * ministack and DynamoDB Local (or the one external endpoint given by AWS_ENDPOINT_URL).
 */
describe.each(inject('eventbox').dynamoDbEngines)('DynamoDB contract on $name', ({ endpoint }) => {
  let table: TestTable;
  let box: EventBox;

  beforeAll(async () => {
    table = await createTable(endpoint);
    box = new EventBox({ tableName: table.tableName, source: 'orders', client: table.client });
  });

  afterAll(async () => {
    await table.drop();
  });

  const outboxOf = async (aggregateId: string) => {
    const { Items = [] } = await table.document.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `OUTBOX#Order#${aggregateId}` },
        ConsistentRead: true,
      }),
    );
    return Items;
  };
  const entityOf = async (aggregateId: string) =>
    (
      await table.document.send(
        new GetCommand({
          TableName: table.tableName,
          Key: { pk: `ORDER#${aggregateId}`, sk: 'ORDER' },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('creates, then updates with the right version: version + 1 and one outbox item each', async () => {
    // Prepare
    const id = 'create-update';
    const aggregate = (version: number) => ({ type: 'Order', id, version });

    // Act
    const created = await box
      .transaction()
      .put({ pk: `ORDER#${id}`, sk: 'ORDER', status: 'placed' }, { expectedVersion: 0 })
      .commit();
    const tx = box
      .transaction()
      .update({ pk: `ORDER#${id}`, sk: 'ORDER' }, { status: 'paid' }, { expectedVersion: 1 });
    tx.publish({ type: 'OrderPaid', aggregate: aggregate(2), payload: { amount: 25 } });
    const updated = await tx.commit();

    // Assess
    expect(created.events).toStrictEqual([]);
    expect(await entityOf(id)).toStrictEqual({
      pk: `ORDER#${id}`,
      sk: 'ORDER',
      status: 'paid',
      version: 2,
    });
    const outbox = await outboxOf(id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      _eventbox: 'outbox',
      eventId: updated.events[0]?.id,
      aggregateVersion: 2,
      detail: JSON.stringify(updated.events[0]),
    });
    const ttl = outbox[0]?.ttl as number;
    expect(ttl - Date.now() / 1000).toBeGreaterThan(604_800 - 120);
    expect(ttl - Date.now() / 1000).toBeLessThanOrEqual(604_800);
  });

  it('answers a retried commit (same request token) with success, not a version conflict', async () => {
    // Prepare: a commit whose response was lost; the SDK sends the same request again
    const id = 'token';
    const tx = box
      .transaction()
      .put({ pk: `ORDER#${id}`, sk: 'ORDER', status: 'placed' }, { expectedVersion: 0 });
    tx.publish({ type: 'OrderPlaced', aggregate: { type: 'Order', id, version: 1 }, payload: {} });
    await tx.commit();

    // Act
    const retried = await table.document.send(new TransactWriteCommand(tx.params()));

    // Assess
    expect(retried.$metadata.httpStatusCode).toBe(200);
    expect(await entityOf(id)).toMatchObject({ version: 1 });
    expect(await outboxOf(id)).toHaveLength(1);
  });

  it('rejects a stale version with VersionConflictError and changes neither entity nor outbox', async () => {
    // Prepare
    const id = 'stale';
    await box
      .transaction()
      .put({ pk: `ORDER#${id}`, sk: 'ORDER', status: 'placed' }, { expectedVersion: 0 })
      .commit();
    await box
      .transaction()
      .update({ pk: `ORDER#${id}`, sk: 'ORDER' }, { status: 'paid' }, { expectedVersion: 1 })
      .commit();
    const before = await entityOf(id);

    // Act
    const tx = box
      .transaction()
      .update({ pk: `ORDER#${id}`, sk: 'ORDER' }, { status: 'cancelled' }, { expectedVersion: 1 });
    tx.publish({
      type: 'OrderCancelled',
      aggregate: { type: 'Order', id, version: 2 },
      payload: {},
    });
    const error = await tx.commit().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error).toMatchObject({ expectedVersion: 1, action: { kind: 'update', index: 0 } });
    // Both engines return the stored item on a failed condition (ReturnValuesOnConditionCheckFailure).
    expect((error as VersionConflictError).actualVersion).toBe(2);
    expect(await entityOf(id)).toStrictEqual(before);
    expect(await outboxOf(id)).toStrictEqual([]);
  });

  it('lets exactly one of 12 concurrent writers commit each version: no gaps, one outbox item per version', async () => {
    // Prepare
    const id = 'concurrent';
    const writers = 12;
    const commitsPerWriter = 3;
    await box
      .transaction()
      .put({ pk: `ORDER#${id}`, sk: 'ORDER', log: [] }, { expectedVersion: 0 })
      .commit();
    const committed: Array<{ writer: number; version: number }> = [];
    let conflicts = 0;

    // Act
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        let done = 0;
        while (done < commitsPerWriter) {
          const current = (await entityOf(id))?.version as number;
          const tx = box
            .transaction()
            .update(
              { pk: `ORDER#${id}`, sk: 'ORDER' },
              { lastWriter: writer },
              { expectedVersion: current },
            );
          tx.publish({
            type: 'OrderTouched',
            aggregate: { type: 'Order', id, version: current + 1 },
            payload: { writer },
          });
          try {
            await tx.commit();
            committed.push({ writer, version: current + 1 });
            done++;
          } catch (error) {
            if (
              !(error instanceof VersionConflictError || error instanceof TransactionConflictError)
            )
              throw error;
            conflicts++;
          }
        }
      }),
    );

    // Assess
    const total = writers * commitsPerWriter;
    const versions = committed.map((c) => c.version).sort((a, b) => a - b);
    expect(versions).toStrictEqual(Array.from({ length: total }, (_, i) => i + 2));
    expect((await entityOf(id))?.version).toBe(total + 1);
    const outbox = await outboxOf(id);
    expect(outbox.map((o) => o.aggregateVersion)).toStrictEqual(versions);
    for (const item of outbox) {
      const winner = committed.find((c) => c.version === item.aggregateVersion);
      expect(JSON.parse(item.detail as string).payload).toStrictEqual({ writer: winner?.writer });
    }
    expect(conflicts).toBeGreaterThan(0);
  });

  it("puts one aggregate's outbox items on the stream as INSERTs in version order", async () => {
    // Prepare
    const id = 'stream-order';
    const count = 12;

    // Act
    for (let version = 1; version <= count; version++) {
      const tx = box
        .transaction()
        .put({ pk: `ORDER#${id}`, sk: 'ORDER', step: version }, { expectedVersion: version - 1 });
      tx.publish({
        type: 'OrderStepped',
        aggregate: { type: 'Order', id, version },
        payload: { version },
      });
      await tx.commit();
    }

    // Assess
    const outboxPk = `OUTBOX#Order#${id}`;
    const ofAggregate = (records: Awaited<ReturnType<typeof readStream>>) =>
      records.filter((r) => r.dynamodb?.Keys?.pk?.S === outboxPk);
    const records = await readStream(
      endpoint,
      table.streamArn ?? '',
      (all) => ofAggregate(all).length >= count,
    );
    const outboxRecords = ofAggregate(records);
    expect(outboxRecords.map((r) => r.eventName)).toStrictEqual(Array(count).fill('INSERT'));
    const streamed = outboxRecords.map(
      (r) =>
        unmarshall(r.dynamodb?.NewImage as Record<string, AttributeValue>)
          .aggregateVersion as number,
    );
    expect(streamed).toStrictEqual(Array.from({ length: count }, (_, i) => i + 1));
  });

  it('rejects an oversize item and a 101-action transaction before sending anything', async () => {
    // Prepare
    const requests = countRequests(table.client);
    const before = requests.count;
    const tx = box.transaction();
    for (let i = 0; i < 100; i++) tx.put({ pk: `BULK#${i}`, sk: 'X' });

    // Act / Assess
    expect(() => tx.put({ pk: 'BULK#100', sk: 'X' })).toThrow(TransactionTooLargeError);
    expect(() =>
      box.transaction().put({ pk: 'BIG', sk: 'X', blob: 'x'.repeat(410 * 1024) }),
    ).toThrow(ItemTooLargeError);
    expect(requests.count).toBe(before);
    expect(
      await table.document.send(
        new GetCommand({ TableName: table.tableName, Key: { pk: 'BULK#0', sk: 'X' } }),
      ),
    ).not.toHaveProperty('Item');
  });

  it('applies concurrent adds, appends and set changes without a read or a version guard', async () => {
    // Prepare
    const key = { pk: 'STOCK#atomic', sk: 'STOCK' };
    const writers = 12;
    const commit = async (i: number) => {
      for (;;) {
        try {
          await box
            .transaction()
            .update(key, {
              reserved: add(1),
              log: append([i]),
              holders: addToSet([`h${i}`]),
              firstWriter: ifNotExists(i),
            })
            .commit();
          return;
        } catch (error) {
          // Concurrent transactions on one item may be refused as a conflict; nothing was written.
          if (!(error instanceof TransactionConflictError)) throw error;
        }
      }
    };

    // Act
    await Promise.all(Array.from({ length: writers }, (_, i) => commit(i)));
    await box
      .transaction()
      .update(key, { holders: removeFromSet(['h0']) })
      .commit();

    // Assess
    const item = (
      await table.document.send(
        new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
      )
    ).Item;
    expect(item?.reserved).toBe(writers);
    expect([...((item?.log ?? []) as number[])].sort((a, b) => a - b)).toStrictEqual(
      Array.from({ length: writers }, (_, i) => i),
    );
    expect(item?.holders).toStrictEqual(
      new Set(Array.from({ length: writers - 1 }, (_, i) => `h${i + 1}`)),
    );
    expect(item?.log).toContain(item?.firstWriter);
  });
});
