import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteLetters, receiveLetters, redriveConsumerLetters } from '../../../lib/cli/letters.js';
import { type InboxHandler, withInbox } from '../../../lib/consumer/index.js';
import { envelope, eventBridgeEventOf, lambdaContext } from '../../../lib/testing/builders.js';
import { clientConfig, createTable, type TestTable } from '../../helpers/aws.js';
import { createQueue, type TestQueue } from '../../helpers/bus.js';

const AGGREGATES = ['a1', 'a2', 'a3', 'a4', 'a5'];
const VERSIONS = 11; // the poison event (version 1) and its 10 successors

/**
 * The on-call path on the emulator's SQS and DynamoDB: a consumer bug dead-letters a poison
 * event per aggregate and, once they have waited their budget, every successor behind it.
 * The bug is fixed; ONE redrive brings everything home, each event once and in order.
 */
describe('Causal redrive on the emulator', () => {
  const sqs = new SQSClient(clientConfig());
  let table: TestTable;
  let queue: TestQueue;
  let letters: TestQueue;
  let broken = true;

  // A ledger that applies each version once, in order: the history shows both.
  const ledger: InboxHandler<{ amount: number }> = async (event, { get, tx, notYet }) => {
    const key = { pk: `LEDGER#${event.aggregate.id}`, sk: 'LEDGER' };
    const stored = await get(key);
    const at = Number(stored?.version ?? 0);
    if (event.aggregate.version !== at + 1)
      notYet(`ledger ${event.aggregate.id} is at version ${at}`);
    if (broken && event.aggregate.version === 1) throw new Error('unknown currency XXX');
    const history = [...((stored?.history as number[] | undefined) ?? []), event.aggregate.version];
    tx.synchronize({ ...key, history }, { version: event.aggregate.version });
  };

  let handler: ReturnType<typeof withInbox>;

  /** One event source mapping poll: receive, invoke, delete what the handler did not return. */
  const poll = async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return;
    const event: SQSEvent = { Records: Messages.map((m) => recordOf(m, queue.arn)) };
    const response = await handler(event, lambdaContext());
    const failed = new Set(response?.batchItemFailures.map((f) => f.itemIdentifier));
    const done = Messages.filter((m) => !failed.has(m.MessageId ?? ''));
    if (done.length > 0)
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
  };
  const pollUntil = async (condition: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition()) && Date.now() < deadline) await poll();
  };
  const depth = async (url: string) => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  };
  const historyOf = async (id: string) =>
    (
      await table.client.send(
        new GetCommand({ TableName: table.tableName, Key: { pk: `LEDGER#${id}`, sk: 'LEDGER' } }),
      )
    ).Item?.history as number[] | undefined;
  const redrive = async () => {
    const read = await receiveLetters(sqs, letters.url, 60);
    const { sent, failed } = await redriveConsumerLetters(read, {
      sqs,
      queueUrlOf: () => queue.url,
    });
    const deleted = await deleteLetters(sqs, sent);
    return { read: read.length, sent: sent.length, failed, notDeleted: deleted.failed };
  };

  beforeAll(async () => {
    table = await createTable(clientConfig().endpoint, 'redrive');
    queue = await createQueue(sqs, 'redrive');
    letters = await createQueue(sqs, 'redrive-dlq');
    handler = withInbox(ledger, {
      consumerName: 'ledger',
      tableName: table.tableName,
      client: table.client,
      sqsClient: sqs,
      queueUrl: queue.url,
      deadLetterQueueUrl: letters.url,
      maxReceiveCount: 3,
      notYet: { maxWaitSeconds: 20, backoff: { baseSeconds: 1, capSeconds: 1 } },
    });
  });

  afterAll(async () => {
    await Promise.all([table.drop(), queue.drop(), letters.drop()]);
  });

  it('one redrive applies a poison event and the 10 successors dead-lettered behind it on each of 5 aggregates, once and in order', async () => {
    // Prepare: every version of every aggregate, shuffled; the bug dead-letters them all.
    const events = AGGREGATES.flatMap((id) =>
      Array.from({ length: VERSIONS }, (_, v) =>
        envelope({
          type: 'Posted',
          aggregate: { type: 'Ledger', id, version: v + 1 },
          payload: { amount: 1 },
        }),
      ),
    ).sort(() => Math.random() - 0.5);
    for (let i = 0; i < events.length; i += 10)
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: events.slice(i, i + 10).map((e, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify(eventBridgeEventOf(e)),
          })),
        }),
      );
    let dead = 0;
    await pollUntil(async () => {
      dead = await depth(letters.url);
      return dead >= events.length;
    }, 90_000);
    expect(dead).toBe(events.length);

    // Act: the fix is deployed; one redrive.
    broken = false;
    const first = await redrive();
    await pollUntil(
      async () =>
        (await Promise.all(AGGREGATES.map(historyOf))).every((h) => h?.length === VERSIONS),
      90_000,
    );

    // Assess
    expect(await depth(queue.url)).toBe(0);
    expect(await depth(letters.url)).toBe(0);
    expect(first).toStrictEqual({ read: 55, sent: 55, failed: [], notDeleted: [] });
    const ordered = Array.from({ length: VERSIONS }, (_, v) => v + 1);
    for (const id of AGGREGATES) expect(await historyOf(id)).toStrictEqual(ordered);
    const second = await redrive();
    expect(second).toStrictEqual({ read: 0, sent: 0, failed: [], notDeleted: [] });
  });
});

/** The Lambda SQS record of a received message, as an event source mapping builds it. */
function recordOf(m: Message, queueArn: string): SQSEvent['Records'][number] {
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: 'events.amazonaws.com',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}
