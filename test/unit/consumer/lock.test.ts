import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../../../lib/consumer/inbox/lock.js';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const ddb = mockClient(client);
const layout = {
  tableName: 'inbox',
  partitionKey: 'pk',
  sortKey: 'sk',
  versionAttribute: 'version',
};
const key = { pk: 'INBOX#c#e1', sk: 'INBOX' };
const refusedWith = (item: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: marshall(item),
  });

/** The in-progress lock of lock-then-complete consumers. */
describe('Function: acquireLock', () => {
  afterEach(() => ddb.reset());
  const now = Date.parse('2026-12-01T00:00:00Z');

  it('takes a lock whose Put succeeded but whose response was lost as its own (its token), not as held by another', async () => {
    // The first Put reaches DynamoDB; the retry of the lost response finds our own lock.
    ddb.on(PutCommand).callsFake((input) => {
      throw refusedWith({ ...input.Item });
    });

    const result = await acquireLock(client, layout, key, key, 900, now);

    const token = ddb.commandCalls(PutCommand)[0]?.args[0].input.Item?.lockToken;
    expect(result).toStrictEqual({ acquired: { token, key } });
  });

  it("waits for another holder's unexpired lock", async () => {
    ddb.on(PutCommand).rejects(
      refusedWith({
        ...key,
        status: 'IN_PROGRESS',
        lockToken: 'theirs',
        lockExpiresAt: now + 5_000,
      }),
    );

    const result = await acquireLock(client, layout, key, key, 900, now);

    expect(result).toStrictEqual({ heldUntil: now + 5_000 });
  });

  it('reports an event whose record is completed as completed', async () => {
    ddb.on(PutCommand).rejects(refusedWith({ ...key, status: 'COMPLETED' }));

    expect(await acquireLock(client, layout, key, key, 900, now)).toStrictEqual({
      completed: true,
    });
  });
});
