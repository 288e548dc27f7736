import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsumerDeadLetterMessage } from '../../../lib/shared/dead-letters.js';
import { envelope, eventBridgeEventOf } from '../../../lib/testing/builders.js';
import { cli } from '../../helpers/cli.js';
import { mockStack, stackMocks } from '../../helpers/mocked-stack.js';

const DAY = 86_400_000;
const sqs = mockClient(SQSClient);

/** A consumer letter of `scores` holding version `version` of account `a`. */
function letterOf(
  version: number,
  options: { id?: string; eventAgeMs?: number; aggregate?: string } = {},
) {
  const event = envelope({
    type: 'Posted',
    aggregate: { type: 'Account', id: options.aggregate ?? 'a', version },
    payload: {},
    time: new Date(Date.now() - (options.eventAgeMs ?? 60_000)),
  });
  const body = JSON.stringify(eventBridgeEventOf({ ...event, id: options.id ?? event.id }));
  const letter: ConsumerDeadLetterMessage = {
    kind: 'eventbox.consumer.dead-letter',
    consumer: 'scores',
    reason: `Not yet: account a is at version ${version - 2}`,
    eventId: options.id ?? event.id,
    eventType: 'Posted',
    messageId: `orig-${version}`,
    receiveCount: 20,
    deadLetteredAt: new Date().toISOString(),
    body,
  };
  return { body, letter };
}

const sentVersions = () =>
  sqs.commandCalls(SendMessageCommand).map(
    (c) =>
      (
        JSON.parse(String(c.args[0].input.MessageBody)) as {
          detail: { aggregate: { version: number } };
        }
      ).detail.aggregate.version,
  );
/** The receipt handles the redrive deleted, or released (made visible again). */
const receipts = (what: 'deleted' | 'released') =>
  sqs
    .commandCalls(
      what === 'deleted' ? DeleteMessageBatchCommand : ChangeMessageVisibilityBatchCommand,
    )
    .flatMap(
      (c) =>
        (c.args[0].input as { Entries?: Array<{ ReceiptHandle?: string }> }).Entries?.map(
          (e) => e.ReceiptHandle,
        ) ?? [],
    )
    .sort();

/**
 * `dlq redrive` over a consumer's dead-letter queue with the SDK mocked: what it sends, in
 * which order, and what it deletes, keeps or sets aside.
 */
describe('Command: dlq redrive', () => {
  beforeEach(() => {
    mockStack();
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    sqs.on(DeleteMessageBatchCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'new' });
  });

  afterEach(() => {
    for (const mock of [sqs, stackMocks.cfn, stackMocks.lambda]) mock.reset();
    delete process.env.EVENTBOX_STACK;
  });

  /** The scores dead-letter queue holds these letters; the relay's is empty. */
  const holding = (letters: ReadonlyArray<{ letter: ConsumerDeadLetterMessage }>) => {
    sqs.on(ReceiveMessageCommand).resolves({});
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: 'https://sqs/scores-dlq' })
      .resolvesOnce({
        Messages: letters.map((l, i) => ({
          MessageId: `dl-${i}`,
          ReceiptHandle: `rh-${i}`,
          Body: JSON.stringify(l.letter),
        })),
      })
      .resolves({});
  };

  it("sends an aggregate's letters in version order, an event dead-lettered twice once, and deletes what it sent", async () => {
    const twice = letterOf(2);
    holding([letterOf(4), twice, letterOf(3), { letter: { ...twice.letter, messageId: 'copy' } }]);

    const { code, out } = await cli('dlq', 'redrive', '--json');

    expect(code).toBe(0);
    expect(sentVersions()).toStrictEqual([2, 3, 4]);
    expect(
      sqs
        .commandCalls(SendMessageCommand)
        .every((c) => c.args[0].input.QueueUrl === 'https://sqs/scores'),
    ).toBe(true);
    expect(receipts('deleted')).toStrictEqual(['rh-0', 'rh-1', 'rh-2', 'rh-3']);
    expect(JSON.parse(out).redriven).toHaveLength(4);
  });

  it('says how many letters another redrive holds, or one that stopped before letting them go', async () => {
    holding([letterOf(2)]);
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: 'https://sqs/scores-dlq' })
      .resolves({ Attributes: { ApproximateNumberOfMessagesNotVisible: '3' } });

    const text = await cli('dlq', 'redrive');
    const json = await cli('dlq', 'redrive', '--json');

    expect(text.out).toContain(
      '3 letter(s) are in flight elsewhere (another dlq command, or one that stopped before it let them go): they come back within 5 minutes; run again then',
    );
    expect(JSON.parse(json.out).hidden).toBe(3);
  });

  it('keeps a letter whose send failed, and its copy, and deletes only the letters sent', async () => {
    const failing = letterOf(3);
    sqs.on(SendMessageCommand, { MessageBody: failing.body }).rejects(new Error('Throttling'));
    holding([letterOf(2), failing, { letter: { ...failing.letter, messageId: 'copy' } }]);

    const { code, out } = await cli('dlq', 'redrive');

    expect(code).toBe(1);
    expect(receipts('deleted')).toStrictEqual(['rh-0']);
    expect(receipts('released')).toStrictEqual(['rh-1', 'rh-2']);
    expect(out).toContain('not sent, kept: dl-1: Throttling');
  });

  it("sets aside a letter older than the consumer's inbox remembers and the later letters of its aggregate, with why, and redrives the rest", async () => {
    holding([letterOf(2, { eventAgeMs: 31 * DAY }), letterOf(3), letterOf(5, { aggregate: 'b' })]);

    const { code, out } = await cli('dlq', 'redrive');

    expect(code).toBe(0);
    expect(sentVersions()).toStrictEqual([5]);
    expect(receipts('deleted')).toStrictEqual(['rh-2']);
    expect(receipts('released')).toStrictEqual(['rh-0', 'rh-1']);
    expect(out).toMatch(
      /set aside, kept: dl-0: its event \(.+\) is older than the consumers' inbox remembers \(30 days\)/,
    );
    expect(out).toContain('set aside, kept: dl-1: it waits behind dl-0, which is set aside');
  });

  it("sets aside a letter whose event's time it cannot tell", async () => {
    const timeless = letterOf(2);
    const body = JSON.parse(timeless.body) as { detail: { time?: string } };
    delete body.detail.time;
    holding([{ letter: { ...timeless.letter, body: JSON.stringify(body) } }]);

    const { code, out } = await cli('dlq', 'redrive');

    expect(code).toBe(0);
    expect(sentVersions()).toStrictEqual([]);
    expect(out).toContain("set aside, kept: dl-0: its event's time is unknown");
  });

  it("redrives an event EventBridge could not deliver to the consumer's queue, with the reason from its attributes", async () => {
    const raw = letterOf(2).body;
    sqs.on(ReceiveMessageCommand).resolves({});
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: 'https://sqs/scores-dlq' })
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'dl-0',
            ReceiptHandle: 'rh-0',
            Body: raw,
            MessageAttributes: {
              ERROR_CODE: { DataType: 'String', StringValue: 'SQS.AccessDenied' },
              ERROR_MESSAGE: { DataType: 'String', StringValue: 'KMS key not accessible' },
            },
          },
        ],
      })
      .resolves({});

    const { code, out } = await cli('dlq', 'redrive', '--json');

    expect(code).toBe(0);
    expect(
      sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.MessageAttributeNames,
    ).toStrictEqual(['All']);
    expect(sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input)).toStrictEqual([
      { QueueUrl: 'https://sqs/scores', MessageBody: raw },
    ]);
    expect(receipts('deleted')).toStrictEqual(['rh-0']);
    expect(JSON.parse(out).redriven).toMatchObject([
      { messageId: 'dl-0', kind: 'eventbridge.undelivered' },
    ]);
  });

  it('sends a too-old letter too with --force', async () => {
    holding([letterOf(2, { eventAgeMs: 31 * DAY }), letterOf(3)]);

    const { code } = await cli('dlq', 'redrive', '--force');

    expect(code).toBe(0);
    expect(sentVersions()).toStrictEqual([2, 3]);
  });
});

describe('Command: dlq list', () => {
  beforeEach(() => {
    mockStack();
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
  });

  afterEach(() => {
    for (const mock of [sqs, stackMocks.cfn, stackMocks.lambda]) mock.reset();
    delete process.env.EVENTBOX_STACK;
  });

  it('says how many letters are in flight elsewhere, in text and JSON', async () => {
    sqs.on(ReceiveMessageCommand).resolves({});
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: 'https://sqs/relay-dlq' })
      .resolves({ Attributes: { ApproximateNumberOfMessagesNotVisible: '2' } });

    const text = await cli('dlq', 'list');
    const json = await cli('dlq', 'list', '--json');

    expect(text.out).toContain('2 letter(s) are in flight elsewhere');
    expect(JSON.parse(json.out).hidden).toBe(2);
  });

  it('names the root cause first: the letter of the lowest version, with how many letters of its aggregate wait behind it', async () => {
    const poison = letterOf(1);
    const behind = [letterOf(3), letterOf(2), letterOf(4)];
    const messages = [
      ...behind,
      { letter: { ...poison.letter, reason: 'Handler failed: XXX' } },
    ].map((l, i) => ({
      MessageId: `dl-${i}`,
      ReceiptHandle: `rh-${i}`,
      Body: JSON.stringify(l.letter),
    }));
    sqs.on(ReceiveMessageCommand).resolves({});
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: 'https://sqs/scores-dlq' })
      .resolvesOnce({ Messages: messages })
      .resolvesOnce({})
      .resolvesOnce({ Messages: messages })
      .resolves({});

    const json = await cli('dlq', 'list', '--json');
    const text = await cli('dlq', 'list');

    expect(json.code).toBe(0);
    expect(JSON.parse(json.out).roots).toStrictEqual([
      {
        source: 'scores',
        messageId: 'dl-3',
        eventId: poison.letter.eventId,
        aggregate: 'Account#a',
        version: 1,
        reason: 'Handler failed: XXX',
        waiting: 3,
      },
    ]);
    expect(text.out).toMatch(
      /Root causes[^\n]*\n.*WAITING[^\n]*\n-[- ]*\nscores\s+3\s+Account#a\s+1\s+dl-3\s+Handler failed: XXX/,
    );
  });
});

describe('Command: outbox replay without a deployment', () => {
  it("refuses a window older than the inbox's default when no stack says how long consumers remember", async () => {
    const { code, err } = await cli(
      'outbox',
      'replay',
      '--table',
      'orders',
      '--bus',
      'shop',
      '--since',
      '8d',
      '--until',
      '1d',
    );

    expect(code).toBeGreaterThan(0);
    expect(err.split('\n')[0]).toContain(
      "further back than the consumers' inbox remembers (7 days, the default: no deployment says otherwise)",
    );
  });
});
