import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { InboxEngine, NotYetError } from '../../../lib/consumer/index.js';
import { VersionConflictError } from '../../../lib/transaction/errors.js';
import { envelope, sqsMessage } from '../../helpers/inbox.js';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(client);
const engine = new InboxEngine({ consumerName: 'unit', tableName: 'scores', client });
const event = envelope({
  type: 'ScoreChanged',
  aggregate: { type: 'User', id: 'u1', version: 3 },
  payload: { score: 7 },
});
const message = sqsMessage(event, 2);
const canceled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

async function begun() {
  const result = await engine.begin(message, event);
  if (!('attempt' in result)) throw new Error('expected an attempt');
  return result.attempt;
}

/** The inbox engine's decisions, with DynamoDB mocked: what each answer of the SDK means. */
describe('Class: InboxEngine', () => {
  beforeEach(() => {
    ddb.reset();
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
  });

  describe('begin', () => {
    it('reads the inbox record consistently and answers a duplicate without an attempt', async () => {
      ddb.on(GetCommand).resolves({ Item: { pk: `INBOX#unit#${event.id}`, sk: 'INBOX' } });

      expect(await engine.begin(message, event)).toStrictEqual({
        outcome: { status: 'duplicate', event },
      });
      expect(ddb.commandCalls(GetCommand)[0]?.args[0].input).toStrictEqual({
        TableName: 'scores',
        Key: { pk: `INBOX#unit#${event.id}`, sk: 'INBOX' },
        ConsistentRead: true,
      });
    });

    it('opens an attempt when the event was not seen', async () => {
      const attempt = await begun();

      expect(attempt).toMatchObject({ message, event });
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });
  });

  describe('prefetch', () => {
    const others = [1, 2].map((n) =>
      envelope({
        type: 'ScoreChanged',
        aggregate: { type: 'User', id: `u${n}`, version: 1 },
        payload: {},
      }),
    );
    const messages = [event, ...others].map((e) => sqsMessage(e));
    const partition = (id: string) => `INBOX#unit#${id}`;

    it('reads the inbox records of a whole batch in one consistent BatchGetItem', async () => {
      ddb.on(BatchGetCommand).resolves({
        Responses: { scores: [{ pk: partition(event.id) }] },
      });

      const prefetched = await engine.prefetch(messages);

      expect(ddb.commandCalls(BatchGetCommand)).toHaveLength(1);
      const request = ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.scores;
      expect(request?.ConsistentRead).toBe(true);
      expect(request?.Keys).toStrictEqual(
        [event, ...others].map((e) => ({ pk: partition(e.id), sk: 'INBOX' })),
      );
      expect(messages.map((m) => prefetched.get(m.messageId)?.seen)).toStrictEqual([
        true,
        false,
        false,
      ]);
    });

    it('opens the attempts of unseen events with no GetItem of their own, and answers the seen one as a duplicate', async () => {
      ddb.on(BatchGetCommand).resolves({ Responses: { scores: [{ pk: partition(event.id) }] } });
      const prefetched = await engine.prefetch(messages);

      const outcomes = await Promise.all(
        messages.map((m) => engine.process(m, async () => {}, prefetched.get(m.messageId))),
      );

      expect(outcomes.map((o) => o.status)).toStrictEqual(['duplicate', 'handled', 'handled']);
      expect(ddb.commandCalls(GetCommand)).toHaveLength(0);
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(2);
    });

    it('leaves a key DynamoDB did not process unknown, so its message reads on its own', async () => {
      ddb.on(BatchGetCommand).resolves({
        Responses: { scores: [] },
        UnprocessedKeys: {
          scores: { Keys: [{ pk: partition(others[0]?.id ?? ''), sk: 'INBOX' }] },
        },
      });

      const prefetched = await engine.prefetch(messages);
      await engine.process(
        messages[1] as (typeof messages)[number],
        async () => {},
        prefetched.get(messages[1]?.messageId ?? ''),
      );

      expect(prefetched.get(messages[1]?.messageId ?? '')?.seen).toBeUndefined();
      expect(prefetched.get(messages[2]?.messageId ?? '')?.seen).toBe(false);
      expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
    });

    it('falls back to a read per message when the batch read fails', async () => {
      ddb.on(BatchGetCommand).rejects(new Error('throttled'));

      const prefetched = await engine.prefetch(messages);

      expect([...prefetched.values()].map((p) => p.seen)).toStrictEqual([
        undefined,
        undefined,
        undefined,
      ]);
    });
  });

  describe('complete', () => {
    it('commits the inbox record with a does-not-exist condition, in one transaction with the handler writes', async () => {
      const attempt = await begun();
      attempt.tx.put({ pk: 'USER#u1', sk: 'USER', score: 7 }, { expectedVersion: 2 });

      const outcome = await engine.complete(attempt);

      expect(outcome).toMatchObject({ status: 'handled', event, staleSkipped: 0 });
      const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
      expect(items).toHaveLength(2);
      const inbox = items.find((i) => i.Put?.Item?.sk === 'INBOX')?.Put;
      expect(inbox?.ConditionExpression).toMatch(/^attribute_not_exists\(/);
      expect(inbox?.Item).toMatchObject({ status: 'COMPLETED', eventId: event.id });
    });

    it('answers duplicate when the inbox record condition cancels the transaction', async () => {
      const attempt = await begun();
      attempt.tx.put({ pk: 'USER#u1', sk: 'USER', score: 7 }, { expectedVersion: 2 });
      ddb.on(TransactWriteCommand).rejects(canceled('ConditionalCheckFailed', 'None'));

      expect(await engine.complete(attempt)).toStrictEqual({ status: 'duplicate', event });
    });

    it("in lock mode, a cancelled completion of its record is a lost lock, not a duplicate: the handler's writes did not commit", async () => {
      const locking = new InboxEngine({
        consumerName: 'unit',
        tableName: 'scores',
        client,
        mode: 'lockThenComplete',
      });
      ddb.on(PutCommand).resolves({});
      const begin = await locking.begin(message, event);
      if (!('attempt' in begin)) throw new Error('expected an attempt');
      begin.attempt.tx.put({ pk: 'USER#u1', sk: 'USER', score: 7 }, { expectedVersion: 2 });
      // The completion (the inbox action, decided by its kind) fails its lock-token condition.
      ddb.on(TransactWriteCommand).rejects(canceled('ConditionalCheckFailed', 'None'));

      const outcome = await locking.complete(begin.attempt);

      expect(outcome).toMatchObject({ status: 'failed', event });
      expect(outcome.status === 'failed' && String(outcome.error)).toMatch(
        /the lock expired and another delivery took the event over/,
      );
    });

    it('drops a stale snapshot and commits the rest', async () => {
      const attempt = await begun();
      attempt.tx.synchronize({ pk: 'USER#u1', sk: 'USER', score: 7 }, { version: 3 });
      attempt.tx.put({ pk: 'LOG#u1', sk: '3', score: 7 });
      ddb
        .on(TransactWriteCommand)
        .rejectsOnce(canceled('None', 'ConditionalCheckFailed', 'None'))
        .resolves({});

      const outcome = await engine.complete(attempt);

      expect(outcome).toMatchObject({ status: 'handled', staleSkipped: 1 });
      const retried = ddb.commandCalls(TransactWriteCommand)[1]?.args[0].input.TransactItems;
      expect(retried?.map((i) => i.Put?.Item?.pk)).toStrictEqual([
        `INBOX#unit#${event.id}`,
        'LOG#u1',
      ]);
    });

    it('retries as a conflict when a version guard fails', async () => {
      const attempt = await begun();
      attempt.tx.put({ pk: 'USER#u1', sk: 'USER', score: 7 }, { expectedVersion: 2 });
      ddb.on(TransactWriteCommand).rejects(canceled('None', 'ConditionalCheckFailed'));

      expect(await engine.complete(attempt)).toMatchObject({
        status: 'retry',
        kind: 'conflict',
        event,
      });
    });

    it('reports any other SDK error as failed, unchanged', async () => {
      const attempt = await begun();
      const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      ddb.on(TransactWriteCommand).rejects(throttled);

      expect(await engine.complete(attempt)).toStrictEqual({
        status: 'failed',
        event,
        error: throttled,
      });
    });
  });

  describe('synchronizeWithoutInbox', () => {
    const lean = new InboxEngine({
      consumerName: 'unit',
      tableName: 'scores',
      client,
      synchronizeWithoutInbox: true,
    });
    const attemptOf = async () => {
      const result = await lean.begin(message, event, false);
      if (!('attempt' in result)) throw new Error('expected an attempt');
      return result.attempt;
    };

    it('writes a lone snapshot with one conditional PutItem and no transaction', async () => {
      ddb.on(PutCommand).resolves({});
      const attempt = await attemptOf();
      attempt.tx.synchronize({ pk: 'USER#u1', sk: 'USER', score: 7 }, { version: 3 });

      expect(await lean.complete(attempt)).toMatchObject({ status: 'handled', staleSkipped: 0 });
      expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
      const put = ddb.commandCalls(PutCommand)[0]?.args[0].input;
      expect(put?.Item).toMatchObject({ pk: 'USER#u1', version: 3 });
      expect(put?.ConditionExpression).toBeDefined();
    });

    it('answers a refused condition as a stale snapshot skipped', async () => {
      ddb.on(PutCommand).rejects(
        Object.assign(new Error('The conditional request failed'), {
          name: 'ConditionalCheckFailedException',
        }),
      );
      const attempt = await attemptOf();
      attempt.tx.synchronize({ pk: 'USER#u1', sk: 'USER', score: 7 }, { version: 3 });

      expect(await lean.complete(attempt)).toMatchObject({ status: 'handled', staleSkipped: 1 });
    });

    it('keeps the inbox record and the transaction when the handler writes anything else', async () => {
      const attempt = await attemptOf();
      attempt.tx.synchronize({ pk: 'USER#u1', sk: 'USER', score: 7 }, { version: 3 });
      attempt.tx.put({ pk: 'LOG#u1', sk: '3' });

      await lean.complete(attempt);

      expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
      expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems).toHaveLength(
        3,
      );
    });
  });

  describe('fail', () => {
    it('counts a "not yet" in its own item and retries with the backoff of that count', async () => {
      ddb.on(UpdateCommand).resolves({ Attributes: { notYet: 3 } });

      const outcome = await engine.fail(await begun(), new NotYetError('no user yet'));

      expect(outcome).toMatchObject({ status: 'retry', kind: 'not-yet', reason: 'no user yet' });
      const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
      expect(update?.Key).toStrictEqual({ pk: `INBOX#unit#${event.id}`, sk: 'NOTYET' });
      expect(update?.UpdateExpression).toMatch(/^ADD #count :one/);
    });

    it('dead-letters a "not yet" once it has waited notYet.maxWaitSeconds since its first answer, however many answers', async () => {
      const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
      ddb
        .on(UpdateCommand)
        .resolvesOnce({ Attributes: { notYet: 40, waitingSince: minutesAgo(59) } })
        .resolves({ Attributes: { notYet: 2, waitingSince: minutesAgo(61) } });

      const within = await engine.fail(await begun(), new NotYetError('no user yet'));
      const spent = await engine.fail(await begun(), new NotYetError('no user yet'));

      expect(within).toMatchObject({ status: 'retry', kind: 'not-yet' });
      expect(spent).toStrictEqual({
        status: 'dead-letter',
        event,
        reason: expect.stringMatching(
          /^Not yet: no user yet \(still after 2 attempts over 36\d\d s: notYet\.maxWaitSeconds 3600\)$/,
        ),
      });
      const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
      expect(update?.UpdateExpression).toContain('#since = if_not_exists(#since, :now)');
    });

    it('dead-letters a "not yet" at notYet.maxAttempts answers when that cap is set, whatever the time', async () => {
      const capped = new InboxEngine({
        consumerName: 'unit',
        tableName: 'scores',
        client,
        notYet: { maxAttempts: 10 },
      });
      const now = new Date().toISOString();
      ddb
        .on(UpdateCommand)
        .resolvesOnce({ Attributes: { notYet: 9, waitingSince: now } })
        .resolves({ Attributes: { notYet: 10, waitingSince: now } });

      const below = await capped.fail(await begun(), new NotYetError('no user yet'));
      const at = await capped.fail(await begun(), new NotYetError('no user yet'));

      expect(below).toMatchObject({ status: 'retry', kind: 'not-yet' });
      expect(at).toStrictEqual({
        status: 'dead-letter',
        event,
        reason: 'Not yet: no user yet (still after 10 attempts over 0 s: notYet.maxAttempts 10)',
      });
    });

    it('refuses a "not yet" wait as long as the inbox record lives, which would reset it', () => {
      expect(
        () =>
          new InboxEngine({
            consumerName: 'unit',
            tableName: 'scores',
            client,
            inboxTtlSeconds: 3_600,
            notYet: { maxWaitSeconds: 3_600 },
          }),
      ).toThrow(/notYet.maxWaitSeconds must be below inboxTtlSeconds/);
    });

    it('reports a "not yet" it could not count as failed, so the message comes back', async () => {
      const throttled = new Error('Rate exceeded');
      ddb.on(UpdateCommand).rejects(throttled);

      expect(await engine.fail(await begun(), new NotYetError('no user yet'))).toStrictEqual({
        status: 'failed',
        event,
        error: throttled,
      });
    });

    it('retries a version conflict after a short delay', async () => {
      const conflict = new VersionConflictError(
        {
          action: {
            index: 0,
            kind: 'put',
            tableName: 'scores',
            key: { pk: 'USER#u1', sk: 'USER' },
            expectedVersion: 2,
          },
          code: 'ConditionalCheckFailed',
        },
        [],
      );

      expect(await engine.fail(await begun(), conflict)).toMatchObject({
        status: 'retry',
        kind: 'conflict',
      });
    });

    it('passes a handler error through as failed', async () => {
      const boom = new Error('boom');

      expect(await engine.fail(await begun(), boom)).toStrictEqual({
        status: 'failed',
        event,
        error: boom,
      });
    });
  });
});
