import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InboxEngine, type InboxHandler } from '../../../lib/consumer/index.js';
import { createTable, type TestTable } from '../../helpers/aws.js';
import { envelope, sqsMessage } from '../../helpers/inbox.js';

/** Lock-then-complete: for effects that cannot live in a DynamoDB transaction. */
describe.each(inject('eventbox').dynamoDbEngines)(
  'Inbox lock-then-complete on $name',
  ({ endpoint }) => {
    let table: TestTable;
    const engine = (lockTtlSeconds = 300) =>
      new InboxEngine({
        consumerName: 'mailer',
        tableName: table.tableName,
        client: table.client,
        mode: 'lockThenComplete',
        lockTtlSeconds,
      });

    beforeAll(async () => {
      table = await createTable(endpoint, 'mailer');
    });

    afterAll(async () => {
      await table.drop();
    });

    const record = async (eventId: string) =>
      (
        await table.document.send(
          new GetCommand({
            TableName: table.tableName,
            Key: { pk: `INBOX#mailer#${eventId}`, sk: 'INBOX' },
            ConsistentRead: true,
          }),
        )
      ).Item;
    const welcome = () =>
      envelope({
        type: 'UserCreated',
        aggregate: { type: 'User', id: 'u', version: 1 },
        payload: { email: 'a@example.com' },
      });

    it('sends once, completes the record, and treats a redelivery as a duplicate', async () => {
      const sent: string[] = [];
      const sendMail: InboxHandler = async (event) => {
        sent.push(event.id);
      };
      const event = welcome();

      const first = await engine().process(sqsMessage(event), sendMail);
      const again = await engine().process(sqsMessage(event, 2), sendMail);

      expect([first.status, again.status]).toStrictEqual(['handled', 'duplicate']);
      expect(sent).toStrictEqual([event.id]);
      expect(await record(event.id)).toMatchObject({ status: 'COMPLETED' });
      expect(await record(event.id)).not.toHaveProperty('lockToken');
    });

    it('makes a concurrent delivery wait while the lock is held', async () => {
      const event = welcome();
      let release: () => void = () => {};
      const slowMail: InboxHandler = () =>
        new Promise<void>((resolve) => {
          release = resolve;
        });

      const holder = engine().process(sqsMessage(event), slowMail);
      await expect.poll(async () => (await record(event.id))?.status).toBe('IN_PROGRESS');
      const contender = await engine().process(sqsMessage(event), async () => {
        throw new Error('must not run while the lock is held');
      });
      release();

      expect(contender).toMatchObject({ status: 'retry', kind: 'locked' });
      expect(contender.status === 'retry' && contender.delaySeconds).toBeGreaterThan(200);
      expect((await holder).status).toBe('handled');
    });

    it('releases the lock when the effect fails, so the retry runs at once', async () => {
      const event = welcome();
      let attempts = 0;
      const flakyMail: InboxHandler = async () => {
        attempts++;
        if (attempts === 1) throw new Error('SMTP 451');
      };

      const failed = await engine().process(sqsMessage(event), flakyMail);
      const afterFailure = await record(event.id);
      const retried = await engine().process(sqsMessage(event, 2), flakyMail);

      expect(failed.status).toBe('failed');
      expect(afterFailure).toBeUndefined();
      expect(retried.status).toBe('handled');
    });

    it('takes over an expired lock left by a crashed invocation: the effect happens again (at least once)', async () => {
      const event = welcome();
      const effects: string[] = [];
      // The first invocation takes the lock, runs the effect, and dies before completing.
      const crashed = engine(1);
      const begun = await crashed.begin(sqsMessage(event), event);
      expect('attempt' in begun).toBe(true);
      effects.push('sent by the crashed invocation');
      await new Promise((resolve) => setTimeout(resolve, 1_100));

      const takeover = await engine(1).process(sqsMessage(event, 2), async () => {
        effects.push('sent again after takeover');
      });

      expect(takeover.status).toBe('handled');
      expect(effects).toStrictEqual([
        'sent by the crashed invocation',
        'sent again after takeover',
      ]);
      expect(await record(event.id)).toMatchObject({ status: 'COMPLETED' });
    });
  },
);
