import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type EventEnvelope, InboxEngine, type InboxHandler } from '../../../lib/consumer/index.js';
import { add } from '../../../lib/transaction/update-operations.js';
import { createTable, type TestTable } from '../../helpers/aws.js';
import { envelope, sqsMessage } from '../../helpers/inbox.js';

/**
 * The inbox's transactional guarantees, on every DynamoDB engine: what a delivery writes
 * is the inbox record and the handler's writes together, or nothing.
 */
describe.each(inject('eventbox').dynamoDbEngines)('Inbox contract on $name', ({ endpoint }) => {
  let table: TestTable;
  let engine: InboxEngine;

  beforeAll(async () => {
    table = await createTable(endpoint, 'inbox');
    engine = new InboxEngine({
      consumerName: 'contract',
      tableName: table.tableName,
      client: table.client,
    });
  });

  afterAll(async () => {
    await table.drop();
  });

  const itemOf = async (pk: string, sk = 'COUNTER') =>
    (
      await table.document.send(
        new GetCommand({ TableName: table.tableName, Key: { pk, sk }, ConsistentRead: true }),
      )
    ).Item;
  const inboxRecords = async (eventId: string) =>
    (
      await table.document.send(
        new QueryCommand({
          TableName: table.tableName,
          KeyConditionExpression: 'pk = :pk AND sk = :sk',
          ExpressionAttributeValues: { ':pk': `INBOX#contract#${eventId}`, ':sk': 'INBOX' },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  const notYetAnswers = async (eventId: string) =>
    (await itemOf(`INBOX#contract#${eventId}`, 'NOTYET'))?.notYet;

  /** Adds the payload's amount to a counter item, guarded by its version. */
  const addToCounter: InboxHandler<{ counter: string; amount: number }> = async (
    event,
    { tx, get },
  ) => {
    const counter = await get({ pk: event.payload.counter, sk: 'COUNTER' });
    tx.put(
      {
        pk: event.payload.counter,
        sk: 'COUNTER',
        total: ((counter?.total as number) ?? 0) + event.payload.amount,
      },
      { expectedVersion: (counter?.version as number) ?? 0 },
    );
  };
  const credit = (
    counter: string,
    amount: number,
  ): EventEnvelope<{ counter: string; amount: number }> =>
    envelope({
      type: 'Credited',
      aggregate: { type: 'Counter', id: counter, version: 1 },
      payload: { counter, amount },
    });

  it('applies a duplicate delivery once', async () => {
    // Prepare
    const event = credit('dup', 5);

    // Act
    const first = await engine.process(sqsMessage(event), addToCounter);
    const second = await engine.process(sqsMessage(event), addToCounter);

    // Assess
    expect([first.status, second.status]).toStrictEqual(['handled', 'duplicate']);
    expect(await itemOf('dup')).toMatchObject({ total: 5, version: 1 });
    expect(await inboxRecords(event.id)).toMatchObject([
      { _eventbox: 'inbox', consumer: 'contract', eventId: event.id, status: 'COMPLETED' },
    ]);
  });

  it('applies one of two concurrent deliveries of the same event', async () => {
    const event = credit('race', 7);

    const outcomes = await Promise.all(
      [1, 2, 3].map(() => engine.process(sqsMessage(event), addToCounter)),
    );

    expect(outcomes.filter((o) => o.status === 'handled')).toHaveLength(1);
    expect(outcomes.every((o) => ['handled', 'duplicate', 'retry'].includes(o.status))).toBe(true);
    expect(await itemOf('race')).toMatchObject({ total: 7, version: 1 });
  });

  it("applies one of five concurrent deliveries that all passed the pre-read, with unguarded writes: the inbox record's condition alone decides", async () => {
    // Every delivery reads "not seen" before any commits, and the handler's atomic add has
    // no version guard: only the inbox record's does-not-exist condition stops the others.
    const event = credit('unguarded', 3);
    const deliveries = 5;
    let started = 0;
    let release: () => void = () => {};
    const allStarted = new Promise<void>((resolve) => {
      release = resolve;
    });
    const unguarded: InboxHandler<{ counter: string; amount: number }> = async (e, { tx }) => {
      if (++started === deliveries) release();
      await allStarted;
      tx.update({ pk: e.payload.counter, sk: 'COUNTER' }, { total: add(e.payload.amount) });
    };

    const outcomes = await Promise.all(
      Array.from({ length: deliveries }, () => engine.process(sqsMessage(event), unguarded)),
    );

    expect(started).toBe(deliveries);
    expect(outcomes.filter((o) => o.status === 'handled')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status !== 'handled').map((o) => o.status)).toSatisfy(
      (rest: string[]) => rest.every((status) => status === 'duplicate' || status === 'retry'),
    );
    expect((await itemOf('unguarded'))?.total).toBe(3);
    expect(await inboxRecords(event.id)).toHaveLength(1);
  });

  it('reads the inbox records of a batch in one consistent read: the applied event is seen, the new one is not, and each ends right', async () => {
    const applied = credit('batch-a', 2);
    const fresh = credit('batch-b', 4);
    await engine.process(sqsMessage(applied), addToCounter);
    const messages = [sqsMessage(applied, 2), sqsMessage(fresh)];

    const prefetched = await engine.prefetch(messages);
    const outcomes = await Promise.all(
      messages.map((m) => engine.process(m, addToCounter, prefetched.get(m.messageId))),
    );

    expect(messages.map((m) => prefetched.get(m.messageId)?.seen)).toStrictEqual([true, false]);
    expect(outcomes.map((o) => o.status)).toStrictEqual(['duplicate', 'handled']);
    expect(await itemOf('batch-a')).toMatchObject({ total: 2, version: 1 });
    expect(await itemOf('batch-b')).toMatchObject({ total: 4, version: 1 });
  });

  it('with synchronizeWithoutInbox, applies a lone snapshot with one write and no inbox record; a duplicate or an older one is skipped as stale', async () => {
    const lean = new InboxEngine({
      consumerName: 'lean',
      tableName: table.tableName,
      client: table.client,
      synchronizeWithoutInbox: true,
    });
    const snapshot = (version: number, name: string) =>
      envelope({
        type: 'UserUpdated',
        aggregate: { type: 'User', id: 'lean', version },
        payload: { name },
      });
    const sync: InboxHandler<{ name: string }> = async (e, { tx }) => {
      tx.synchronize(
        { pk: 'USER#lean', sk: 'USER', name: e.payload.name },
        { version: e.aggregate.version },
      );
    };
    const newer = snapshot(3, 'Nia');

    const first = await lean.process(sqsMessage(newer), sync);
    const again = await lean.process(sqsMessage(newer, 2), sync);
    const older = await lean.process(sqsMessage(snapshot(2, 'Old')), sync);

    expect(first).toMatchObject({ status: 'handled', staleSkipped: 0 });
    expect(again).toMatchObject({ status: 'handled', staleSkipped: 1 });
    expect(older).toMatchObject({ status: 'handled', staleSkipped: 1 });
    expect(await itemOf('USER#lean', 'USER')).toMatchObject({ name: 'Nia', version: 3 });
    expect(await itemOf(`INBOX#lean#${newer.id}`, 'INBOX')).toBeUndefined();
  });

  it('skips a stale snapshot and commits the rest of the transaction', async () => {
    // Prepare: version 3 of the user is already there
    const sync =
      (version: number, name: string): InboxHandler =>
      async (_event, { tx }) => {
        tx.synchronize({ pk: 'USER#s', sk: 'USER', name }, { version });
        tx.put({ pk: `AUDIT#${version}`, sk: 'AUDIT', seen: true });
      };
    const newer = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 's', version: 3 },
      payload: {},
    });
    const older = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 's', version: 2 },
      payload: {},
    });
    expect((await engine.process(sqsMessage(newer), sync(3, 'newest'))).status).toBe('handled');

    // Act
    const outcome = await engine.process(sqsMessage(older), sync(2, 'stale'));

    // Assess
    expect(outcome).toMatchObject({ status: 'handled', staleSkipped: 1 });
    expect(await itemOf('USER#s', 'USER')).toMatchObject({ name: 'newest', version: 3 });
    expect(await itemOf('AUDIT#2', 'AUDIT')).toMatchObject({ seen: true });
    expect(await inboxRecords(older.id)).toHaveLength(1);
  });

  it('dead-letters an event whose handler publishes where nothing relays, and writes nothing', async () => {
    // Prepare
    const unrelayed = new InboxEngine({
      consumerName: 'unrelayed',
      tableName: table.tableName,
      client: table.client,
      outbox: false,
    });
    const event = envelope({
      type: 'OrderPaid',
      aggregate: { type: 'Order', id: 'unrelayed', version: 2 },
      payload: {},
    });

    // Act
    const outcome = await unrelayed.process(sqsMessage(event), async (e, { tx }) => {
      tx.put({ pk: 'UNRELAYED', sk: 'ITEM', seen: true });
      tx.publish({
        type: 'Followed',
        aggregate: { type: 'Follow', id: e.aggregate.id, version: 1 },
        payload: null,
      });
    });

    // Assess
    expect(outcome).toMatchObject({
      status: 'dead-letter',
      reason: expect.stringContaining('give its EventBoxConsumer publishTo'),
    });
    expect(await itemOf('UNRELAYED', 'ITEM')).toBeUndefined();
    expect(await itemOf(`INBOX#unrelayed#${event.id}`, 'INBOX')).toBeUndefined();
  });

  it('merges a newer snapshot over local attributes, and skips an older one', async () => {
    // Prepare: a local attribute the snapshots never name
    await table.document.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { pk: 'USER#m', sk: 'USER', name: 'first', localNote: 'keep me', version: 1 },
      }),
    );
    const merge =
      (version: number, name: string): InboxHandler =>
      async (_event, { tx }) => {
        tx.synchronize({ pk: 'USER#m', sk: 'USER', name }, { version, mode: 'merge' });
      };
    const at = (version: number) =>
      envelope({ type: 'UserUpdated', aggregate: { type: 'User', id: 'm', version }, payload: {} });

    // Act
    const newer = await engine.process(sqsMessage(at(4)), merge(4, 'fourth'));
    const older = await engine.process(sqsMessage(at(3)), merge(3, 'third'));

    // Assess
    expect(newer).toMatchObject({ status: 'handled', staleSkipped: 0 });
    expect(older).toMatchObject({ status: 'handled', staleSkipped: 1 });
    expect(await itemOf('USER#m', 'USER')).toStrictEqual({
      pk: 'USER#m',
      sk: 'USER',
      name: 'fourth',
      localNote: 'keep me',
      version: 4,
    });
  });

  it('drops a stale snapshot even when another action fails too, and retries the rest as a conflict', async () => {
    // Prepare: the user is at version 5, and the audit item the handler creates already exists
    const handler: InboxHandler = async (event, { tx }) => {
      tx.synchronize(
        { pk: 'USER#both', sk: 'USER', name: 'old' },
        { version: event.aggregate.version },
      );
      tx.put({ pk: 'AUDIT#both', sk: 'AUDIT', by: event.id }, { expectedVersion: 0 });
    };
    const newest = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 'both', version: 5 },
      payload: {},
    });
    expect((await engine.process(sqsMessage(newest), handler)).status).toBe('handled');
    const stale = envelope({
      type: 'UserUpdated',
      aggregate: { type: 'User', id: 'both', version: 3 },
      payload: {},
    });

    // Act
    const outcome = await engine.process(sqsMessage(stale), handler);

    // Assess: not a failure waiting out the visibility timeout, but a conflict retried soon
    expect(outcome).toMatchObject({ status: 'retry', kind: 'conflict' });
    expect(await itemOf('USER#both', 'USER')).toMatchObject({ version: 5 });
    expect(await inboxRecords(stale.id)).toStrictEqual([]);
  });

  it('retries a "not yet" event and applies both in causal order once the predecessor arrives', async () => {
    // Prepare: the debit needs the account the open event creates
    const open = envelope({
      type: 'Opened',
      aggregate: { type: 'Account', id: 'n', version: 1 },
      payload: {},
    });
    const debit = envelope({
      type: 'Debited',
      aggregate: { type: 'Account', id: 'n', version: 2 },
      payload: { amount: 3 },
    });
    const handler: InboxHandler = async (event, { tx, get, notYet }) => {
      if (event.type === 'Opened')
        tx.put({ pk: 'ACCOUNT#n', sk: 'ACCOUNT', balance: 10 }, { expectedVersion: 0 });
      else {
        const account = await get({ pk: 'ACCOUNT#n', sk: 'ACCOUNT' });
        if (!account) return notYet('account n is not open yet');
        tx.update(
          { pk: 'ACCOUNT#n', sk: 'ACCOUNT' },
          { balance: (account.balance as number) - 3 },
          { expectedVersion: account.version as number },
        );
      }
    };

    // Act
    const early = await engine.process(sqsMessage(debit), handler);
    const opened = await engine.process(sqsMessage(open), handler);
    const later = await engine.process(sqsMessage(debit, 2), handler);

    // Assess
    expect(early).toMatchObject({
      status: 'retry',
      kind: 'not-yet',
      reason: 'account n is not open yet',
    });
    expect(early.status === 'retry' && early.delaySeconds).toBeGreaterThanOrEqual(1);
    expect(await inboxRecords(debit.id)).toHaveLength(1);
    expect(await notYetAnswers(debit.id)).toBe(1);
    expect([opened.status, later.status]).toStrictEqual(['handled', 'handled']);
    expect(await itemOf('ACCOUNT#n', 'ACCOUNT')).toMatchObject({ balance: 7, version: 2 });
  });

  /** Moves the event's first "not yet" back in time, as if it had waited that long. */
  const waitedSince = async (eventId: string, secondsAgo: number) => {
    await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: `INBOX#contract#${eventId}`, sk: 'NOTYET' },
        UpdateExpression: 'SET waitingSince = :since',
        ExpressionAttributeValues: {
          ':since': new Date(Date.now() - secondsAgo * 1000).toISOString(),
        },
      }),
    );
  };

  it('dead-letters a "not yet" event once it has waited notYet.maxWaitSeconds, with the reason', async () => {
    const orphan = envelope({
      type: 'Debited',
      aggregate: { type: 'Account', id: 'ghost', version: 2 },
      payload: {},
    });
    const waiting: InboxHandler = async (_e, { notYet }) => notYet('account ghost is not open yet');

    const early = [];
    for (let delivery = 1; delivery <= 12; delivery++)
      early.push(await engine.process(sqsMessage(orphan, delivery), waiting));
    await waitedSince(orphan.id, 3600);
    const late = await engine.process(sqsMessage(orphan, 13), waiting);

    expect(early.map((o) => o.status)).toStrictEqual(Array(12).fill('retry'));
    expect(late).toMatchObject({
      status: 'dead-letter',
      reason: expect.stringMatching(
        /^Not yet: account ghost is not open yet \(still after 13 attempts over 360\d s: notYet\.maxWaitSeconds 3600\)$/,
      ),
    });
    expect(await inboxRecords(orphan.id)).toStrictEqual([]);
  });

  it('applies 20 versions of an aggregate delivered in the worst order, each waiting for its predecessor, with none dead-lettered', async () => {
    // Every round delivers the waiting versions newest first: version v is answered
    // "not yet" v − 1 times, 19 for the last, past any count-based budget of 10.
    const versions = Array.from({ length: 20 }, (_, i) =>
      envelope({
        type: 'Posted',
        aggregate: { type: 'Ledger', id: 'burst', version: i + 1 },
        payload: {},
      }),
    );
    const applied: number[] = [];
    const inOrder: InboxHandler = async (event, { get, tx, notYet }) => {
      const ledger = await get({ pk: 'LEDGER#burst', sk: 'LEDGER' });
      const at = Number(ledger?.version ?? 0);
      if (event.aggregate.version !== at + 1) notYet(`ledger burst is at version ${at}`);
      tx.synchronize({ pk: 'LEDGER#burst', sk: 'LEDGER' }, { version: event.aggregate.version });
      applied.push(event.aggregate.version);
    };
    let waiting = [...versions].reverse();
    const deadLettered: string[] = [];
    for (let round = 1; waiting.length > 0 && round <= 25; round++) {
      const next = [];
      for (const event of waiting) {
        const outcome = await engine.process(sqsMessage(event, round), inOrder);
        if (outcome.status === 'retry') next.push(event);
        if (outcome.status === 'dead-letter') deadLettered.push(outcome.reason);
      }
      waiting = next;
    }

    expect(deadLettered).toStrictEqual([]);
    expect(applied).toStrictEqual(versions.map((e) => e.aggregate.version));
    expect(await itemOf('LEDGER#burst', 'LEDGER')).toMatchObject({ version: 20 });
  });

  it('gives a dead-lettered "not yet" event a whole budget again when it is redriven', async () => {
    // Prepare: dead-lettered after an hour of "not yet"s, its predecessor still missing.
    const successor = envelope({
      type: 'Debited',
      aggregate: { type: 'Account', id: 'redriven', version: 2 },
      payload: {},
    });
    const waiting = async (_e: unknown, { notYet }: { notYet: (why: string) => never }) =>
      notYet('account redriven is not open yet');
    await engine.process(sqsMessage(successor, 1), waiting);
    await waitedSince(successor.id, 3600);
    const dead = await engine.process(sqsMessage(successor, 2), waiting);
    // What the settler does once the letter is sent, whatever dead-lettered it.
    await engine.deadLettered(successor);

    // Act: a redrive sends it back; its predecessor is still on its way.
    const redriven = await engine.process(sqsMessage(successor, 1), waiting);

    // Assess
    expect(dead).toMatchObject({ status: 'dead-letter' });
    expect(redriven).toMatchObject({ status: 'retry', kind: 'not-yet' });
    expect(await notYetAnswers(successor.id)).toBe(1);
  });

  it('defect 2: counts "not yet" answers apart from other retries, so an event that lost races is not dead-lettered on its first "not yet"', async () => {
    // An event delivered 12 times (lost version races, a failure, lock waits) meets its
    // first missing predecessor: SQS's receive count is above maxAttempts, the answers are not.
    const late = envelope({
      type: 'Debited',
      aggregate: { type: 'Account', id: 'raced', version: 2 },
      payload: {},
    });
    const notYet: InboxHandler = async (_e, ctx) => ctx.notYet('account raced is not open yet');

    const first = await engine.process(sqsMessage(late, 12), notYet);
    const second = await engine.process(sqsMessage(late, 13), notYet);

    expect(first).toMatchObject({ status: 'retry', kind: 'not-yet' });
    expect(second).toMatchObject({ status: 'retry', kind: 'not-yet' });
    expect(await notYetAnswers(late.id)).toBe(2);
  });

  it('writes nothing when the handler throws, and applies the event on the retry', async () => {
    const event = credit('throws', 4);
    let calls = 0;
    const flaky: InboxHandler<{ counter: string; amount: number }> = async (e, ctx) => {
      await addToCounter(e, ctx);
      calls++;
      if (calls === 1) throw new Error('downstream timeout');
    };

    const first = await engine.process(sqsMessage(event), flaky);
    const afterFailure = await itemOf('throws');
    const second = await engine.process(sqsMessage(event, 2), flaky);

    expect(first).toMatchObject({ status: 'failed', error: new Error('downstream timeout') });
    expect(afterFailure).toBeUndefined();
    expect(await inboxRecords(event.id)).toHaveLength(1);
    expect(second.status).toBe('handled');
    expect(await itemOf('throws')).toMatchObject({ total: 4 });
  });

  it('leaves nothing half-applied when it crashes after the handler ran but before the commit', async () => {
    // Prepare: a client whose TransactWriteItems dies on the way out, like a process killed mid-flight
    const crashing = new InboxEngine({
      consumerName: 'contract',
      tableName: table.tableName,
      client: table.client,
    });
    const event = envelope({
      type: 'Credited',
      aggregate: { type: 'Counter', id: 'crash', version: 1 },
      payload: { counter: 'crash', amount: 9 },
    });
    const handler: InboxHandler<{ counter: string; amount: number }> = async (e, ctx) => {
      await addToCounter(e, ctx);
      ctx.tx.publish({
        type: 'CounterChanged',
        aggregate: { type: 'Counter', id: 'crash', version: 1 },
        payload: {},
      });
    };
    let crash = true;
    const crashOnCommit =
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: unknown) => {
        if (crash && context.commandName === 'TransactWriteItemsCommand')
          throw new Error('process killed');
        return next(args);
      };
    table.client.middlewareStack.add(crashOnCommit as never, {
      step: 'initialize',
      name: 'crashOnCommit',
    });

    // Act
    const crashed = await crashing.process(sqsMessage(event), handler);
    crash = false;
    const state = {
      counter: await itemOf('crash'),
      inbox: await inboxRecords(event.id),
      outbox: (
        await table.document.send(
          new QueryCommand({
            TableName: table.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': 'OUTBOX#Counter#crash' },
          }),
        )
      ).Items,
    };
    const redelivered = await crashing.process(sqsMessage(event, 2), handler);
    table.client.middlewareStack.remove('crashOnCommit');

    // Assess
    expect(crashed.status).toBe('failed');
    expect(state).toStrictEqual({ counter: undefined, inbox: [], outbox: [] });
    expect(redelivered.status).toBe('handled');
    expect(await itemOf('crash')).toMatchObject({ total: 9 });
  });

  it('does not run the handler again when it crashes after the commit, before the message is acknowledged', async () => {
    const event = credit('acked', 2);
    let runs = 0;
    const counting: InboxHandler<{ counter: string; amount: number }> = async (e, ctx) => {
      runs++;
      await addToCounter(e, ctx);
    };

    await engine.process(sqsMessage(event), counting);
    // The acknowledgement was lost: SQS delivers the message again.
    const again = await engine.process(sqsMessage(event, 2), counting);

    expect(again.status).toBe('duplicate');
    expect(runs).toBe(1);
    expect(await itemOf('acked')).toMatchObject({ total: 2, version: 1 });
  });
});
