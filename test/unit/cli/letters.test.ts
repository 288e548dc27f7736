import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deleteLetters,
  type Letter,
  receiveLetters,
  redriveRelayLetters,
} from '../../../lib/cli/letters.js';
import { parseDeadLetter, summarizeLetter } from '../../../lib/shared/dead-letters.js';
import { envelope, outboxRecordOf } from '../../../lib/testing/builders.js';

const queueUrl = 'https://sqs.us-east-1.amazonaws.com/111111111111/letters';
const message = (id: string, receipt: string) => ({
  MessageId: id,
  ReceiptHandle: receipt,
  Body: JSON.stringify({ kind: 'eventbox.consumer.dead-letter', reason: 'Not yet: x' }),
});

/** Reading and deleting letters against SQS's documented answers, with the SDK mocked. */
describe('Dead-letter queue reading', () => {
  const sqs = mockClient(SQSClient);
  const client = new SQSClient({});

  afterEach(() => {
    sqs.reset();
  });

  it('long-polls, so that every SQS server is asked, not a sample', async () => {
    sqs.on(ReceiveMessageCommand).resolves({});

    await receiveLetters(client, queueUrl);

    const receives = sqs.commandCalls(ReceiveMessageCommand);
    expect(receives.length).toBeGreaterThan(0);
    for (const call of receives)
      expect(call.args[0].input.WaitTimeSeconds).toBeGreaterThanOrEqual(1);
  });

  it('keeps the newest receipt handle of a letter received again', async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [message('m1', 'rh-old')] })
      .resolvesOnce({ Messages: [message('m1', 'rh-new'), message('m2', 'rh-2')] })
      .resolves({});

    const letters = await receiveLetters(client, queueUrl);

    expect(letters.map((l) => [l.messageId, l.receiptHandle])).toStrictEqual([
      ['m1', 'rh-new'],
      ['m2', 'rh-2'],
    ]);
  });

  it('reports the letters SQS did not delete: refused entries and a batch whose call failed', async () => {
    const letters = Array.from({ length: 12 }, (_, i) => ({
      queueUrl,
      messageId: `m${i}`,
      receiptHandle: `rh-${i}`,
    })) as unknown as Letter[];
    sqs
      .on(DeleteMessageBatchCommand)
      .resolvesOnce({
        Successful: [],
        Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true, Message: 'old' }],
      })
      .rejectsOnce(new Error('socket hang up'));

    const result = await deleteLetters(client, letters);

    expect(result.deleted.map((l) => l.messageId)).toStrictEqual([
      'm0',
      'm2',
      'm3',
      'm4',
      'm5',
      'm6',
      'm7',
      'm8',
      'm9',
    ]);
    expect(result.failed.map((f) => [f.letter.messageId, f.reason])).toStrictEqual([
      ['m1', 'ReceiptHandleIsInvalid: old'],
      ['m10', 'socket hang up'],
      ['m11', 'socket hang up'],
    ]);
  });

  it('reports a relay letter whose event EventBridge refused as not sent, and only the accepted one as sent', async () => {
    const events = mockClient(EventBridgeClient);
    const letters = [1, 2].map((version): Letter => {
      const event = envelope({
        type: 'Posted',
        aggregate: { type: 'Account', id: 'a', version },
        payload: {},
      });
      const letter = parseDeadLetter(
        JSON.stringify({
          kind: 'eventbox.relay.dead-letter',
          reason: 'EventBridge refused it',
          sequenceNumber: String(version),
          deadLetteredAt: new Date().toISOString(),
          record: outboxRecordOf(event),
          recordTruncated: false,
        }),
      );
      return {
        queueUrl,
        messageId: `m${version}`,
        receiptHandle: `rh-${version}`,
        letter,
        summary: summarizeLetter(letter),
      };
    });
    events.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [
        { EventId: 'e1' },
        { ErrorCode: 'MalformedDetail', ErrorMessage: 'the detail is not valid' },
      ],
    });

    const result = await redriveRelayLetters(letters, {
      eventBridge: new EventBridgeClient({}),
      eventBusName: 'bus',
    });
    events.restore();

    expect(result.sent.map((l) => l.messageId)).toStrictEqual(['m1']);
    expect(result.failed.map((f) => f.letter.messageId)).toStrictEqual(['m2']);
  });
});
