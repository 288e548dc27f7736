import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EventBox } from '../../lib/producer/event-box.js';
import { replayOutbox } from '../../lib/relay/replay.js';
import { ReplayTableError } from '../../lib/relay/replay-table.js';
import { Transaction } from '../../lib/transaction/transaction.js';
import { clientConfig, createTable, type TestTable } from '../helpers/aws.js';
import { createBus, type TestBus } from '../helpers/bus.js';

/**
 * Replaying the outbox from the table: the sparse index finds the window's items on every
 * DynamoDB engine, and the relay's publisher sends them to the bus in version order.
 */
describe.each(inject('eventbox').dynamoDbEngines)('Outbox replay on $name', ({ endpoint }) => {
  let table: TestTable;
  let bus: TestBus;
  const base = Date.parse('2026-11-30T10:00:00.000Z');
  const at = (minutes: number) => new Date(base + minutes * 60_000);

  beforeAll(async () => {
    table = await createTable(endpoint, 'replay', { outboxIndex: true });
    bus = await createBus(inject('eventbox').endpoint, 'replay');
    const box = new EventBox({
      tableName: table.tableName,
      source: 'replay',
      client: table.client,
    });
    // Orders A and B across three hours; a tenant's order C; an order outside the window.
    const commits: Array<[string, number, number, string?]> = [
      ['A', 1, 5],
      ['B', 1, 20],
      ['A', 2, 70],
      ['C', 1, 80, 'acme'],
      ['B', 2, 130],
      ['A', 3, 150],
      ['D', 1, 400],
    ];
    for (const [id, version, minutes, tenantId] of commits) {
      const tx = new Transaction({ ...box.settings, now: () => at(minutes) });
      tx.publish({
        type: 'OrderTouched',
        aggregate: { type: 'Order', id, version },
        payload: { id, version },
        ...(tenantId ? { tenantId } : {}),
      });
      await tx.commit();
    }
  });

  afterAll(async () => {
    await table.drop();
    await bus.drop();
  });

  const replay = (filter = {}, dryRun = false) =>
    replayOutbox({
      client: table.document,
      tableName: table.tableName,
      eventBridge: new EventBridgeClient(clientConfig()),
      eventBusName: bus.name,
      since: at(0),
      until: at(200),
      filter,
      dryRun,
    });
  const published = (messages: Message[]) =>
    messages.map((m) => {
      const { detail } = JSON.parse(m.Body ?? '') as {
        detail: { aggregate: { id: string; version: number } };
      };
      return `${detail.aggregate.id}${detail.aggregate.version}`;
    });

  it('finds the window through the index and counts it without publishing on a dry run', async () => {
    const result = await replay({}, true);

    expect(result).toMatchObject({ found: 6, published: 0, failed: 0, unpublishable: [] });
  });

  it('publishes every event of the window once, each aggregate in version order', async () => {
    // Act
    const result = await replay();
    const messages = await bus.queue.drain((m) => m.length >= 6);

    // Assess
    expect(result).toMatchObject({ found: 6, published: 6, failed: 0 });
    const order = published(messages);
    expect([...order].sort()).toStrictEqual(['A1', 'A2', 'A3', 'B1', 'B2', 'C1']);
    for (const id of ['A', 'B'])
      expect(order.filter((e) => e.startsWith(id))).toStrictEqual(
        [...order.filter((e) => e.startsWith(id))].sort(),
      );
  });

  it.each([
    [{ aggregateType: 'Order', aggregateId: 'A' }, ['A1', 'A2', 'A3']],
    [{ tenantId: 'acme' }, ['C1']],
  ])('publishes only what the filter %j selects', async (filter, expected) => {
    const result = await replay(filter);
    const messages = await bus.queue.drain((m) => m.length >= expected.length);

    expect(result.published).toBe(expected.length);
    expect(published(messages).sort()).toStrictEqual(expected);
  });

  it('replays a table whose keys have other names', async () => {
    // Prepare
    const named = await createTable(endpoint, 'replay-keys', {
      outboxIndex: true,
      keys: { partitionKey: 'id', sortKey: 'rev' },
    });
    const box = new EventBox({
      tableName: named.tableName,
      source: 'replay',
      client: named.client,
      keys: { partitionKey: 'id', sortKey: 'rev' },
    });
    const tx = new Transaction({ ...box.settings, now: () => at(10) });
    tx.publish({
      type: 'OrderTouched',
      aggregate: { type: 'Order', id: 'K', version: 1 },
      payload: {},
    });
    await tx.commit();

    // Act
    const result = await replayOutbox({
      client: named.document,
      tableName: named.tableName,
      eventBridge: new EventBridgeClient(clientConfig()),
      eventBusName: bus.name,
      since: at(0),
      until: at(200),
      dryRun: true,
    }).finally(() => named.drop());

    // Assess
    expect(result).toMatchObject({ found: 1, failed: 0, unread: 0, unpublishable: [] });
    expect(result.eventIds).toHaveLength(1);
  });

  it('refuses a table without the by-time index, naming it', async () => {
    const bare = await createTable(endpoint, 'replay-bare');

    const refused = replayOutbox({
      client: bare.document,
      tableName: bare.tableName,
      eventBridge: new EventBridgeClient(clientConfig()),
      eventBusName: bus.name,
      since: at(0),
      until: at(200),
    }).finally(() => bare.drop());

    await expect(refused).rejects.toBeInstanceOf(ReplayTableError);
    await expect(refused).rejects.toThrow(
      `table ${bare.tableName} cannot be replayed: it has no outboxByTime index`,
    );
  });
});
