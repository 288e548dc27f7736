import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** Messages waiting plus messages in flight (received, not yet deleted or returned). */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Receives and deletes every visible message of a queue until it stays empty; returns them. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const drained: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return drained;
    drained.push(...Messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

/**
 * Reads every visible message of a queue without consuming it: receives them all (hidden
 * for a moment, so each receive returns new ones), then makes them visible again. Each read
 * counts as a receive for the queue's redrive policy.
 */
export async function peekQueue(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const m of fresh) seen.set(m.MessageId ?? '', m);
  }
  const handles = [...seen.values()].map((m) => m.ReceiptHandle ?? '');
  for (let i = 0; i < handles.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: handles
          .slice(i, i + 10)
          .map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
  return [...seen.values()];
}

export interface WaitUntilQuietOptions {
  /** Queues that must be empty: nothing waiting, nothing in flight. */
  readonly queueUrls: readonly string[];
  /** A further condition (every expected event applied, say). @default none */
  readonly until?: () => Promise<boolean> | boolean;
  /** How long everything must stay quiet in a row. @default 3000 ms */
  readonly quietMs?: number;
  /** Give up after this long. @default 120000 ms */
  readonly timeoutMs?: number;
  /** Between checks. @default 500 ms */
  readonly pollMs?: number;
}

/** The emulator did not become quiet in time; `depths` says where messages still were. */
export class NotQuietError extends Error {
  override name = 'NotQuietError';

  constructor(
    readonly depths: Readonly<Record<string, number>>,
    readonly conditionMet: boolean,
    timeoutMs: number,
  ) {
    super(
      `Not quiet after ${timeoutMs} ms: ${Object.entries(depths)
        .map(([url, n]) => `${n} message(s) in ${url}`)
        .join(', ')}${conditionMet ? '' : '; the until condition never held'}`,
    );
  }
}

/**
 * Waits until the given queues stay empty and `until` holds for `quietMs` in a row: the
 * events have gone through and nothing is in flight.
 * @throws NotQuietError naming what was still busy.
 */
export async function waitUntilQuiet(
  sqs: SQSClient,
  options: WaitUntilQuietOptions,
): Promise<void> {
  const quietMs = options.quietMs ?? 3_000;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  let quietSince: number | undefined;
  let depths: Record<string, number> = {};
  let conditionMet = false;
  for (;;) {
    depths = Object.fromEntries(
      await Promise.all(
        options.queueUrls.map(async (url) => [url, await queueDepth(sqs, url)] as const),
      ),
    );
    conditionMet = options.until ? await options.until() : true;
    const quiet = conditionMet && Object.values(depths).every((n) => n === 0);
    const now = Date.now();
    if (!quiet) quietSince = undefined;
    else {
      quietSince ??= now;
      if (now - quietSince >= quietMs) return;
    }
    if (now > deadline)
      throw new NotQuietError(
        Object.fromEntries(Object.entries(depths).filter(([, n]) => n > 0)),
        conditionMet,
        timeoutMs,
      );
    await sleep(options.pollMs ?? 500);
  }
}
