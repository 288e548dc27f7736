import type { Logger } from '@aws-lambda-powertools/logger';
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { InboxMessage } from './messages.js';

/**
 * SQS takes a visibility timeout up to 12 hours from the receipt and rejects more; the
 * margin covers the time between SQS's receipt and this invocation seeing the message.
 */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
const RECEIPT_MARGIN_SECONDS = 60;
/** ChangeMessageVisibilityBatch takes at most 10 entries. */
const MAX_BATCH_ENTRIES = 10;

/** `seconds`, or what is left of the 12 hours the message's receipt allows. */
export function visibilityWithinLimit(
  seconds: number,
  receivedAt: number | undefined,
  now: number = Date.now(),
): number {
  const held = receivedAt === undefined ? 0 : Math.ceil((now - receivedAt) / 1000);
  const left = MAX_VISIBILITY_SECONDS - RECEIPT_MARGIN_SECONDS - held;
  return Math.max(0, Math.min(seconds, left));
}

type Change = { readonly message: InboxMessage; readonly seconds: number };

/**
 * The visibility changes of one SQS batch (retry delays, messages returned unstarted),
 * sent together when the batch ends: one ChangeMessageVisibilityBatch per 10 messages of
 * a queue instead of a call each. A change SQS refuses leaves that message to the queue's
 * visibility timeout: it still comes back, only later.
 */
export class VisibilityChanges {
  readonly #pending: Change[] = [];

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: (arn: string) => Promise<string>,
    private readonly logger: Logger,
  ) {}

  add(message: InboxMessage, seconds: number): void {
    if (message.origin !== 'sqs' || !message.receiptHandle || !message.queueArn) return;
    this.#pending.push({ message, seconds });
  }

  async flush(): Promise<void> {
    const byQueue = new Map<string, Change[]>();
    for (const change of this.#pending.splice(0)) {
      const arn = change.message.queueArn as string;
      byQueue.set(arn, [...(byQueue.get(arn) ?? []), change]);
    }
    await Promise.all(
      [...byQueue].flatMap(([arn, changes]) => {
        const chunks: Change[][] = [];
        for (let i = 0; i < changes.length; i += MAX_BATCH_ENTRIES)
          chunks.push(changes.slice(i, i + MAX_BATCH_ENTRIES));
        return chunks.map((chunk) => this.#send(arn, chunk));
      }),
    );
  }

  async #send(arn: string, chunk: readonly Change[]): Promise<void> {
    const now = Date.now();
    const timeout = (c: Change) => visibilityWithinLimit(c.seconds, c.message.receivedAt, now);
    try {
      const QueueUrl = await this.queueUrl(arn);
      if (chunk.length === 1) {
        const [only] = chunk as [Change];
        await this.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl,
            ReceiptHandle: only.message.receiptHandle,
            VisibilityTimeout: timeout(only),
          }),
        );
        return;
      }
      const { Failed = [] } = await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl,
          Entries: chunk.map((c, i) => ({
            Id: String(i),
            ReceiptHandle: c.message.receiptHandle,
            VisibilityTimeout: timeout(c),
          })),
        }),
      );
      for (const failure of Failed)
        this.#warn(chunk[Number(failure.Id)]?.message, failure.Message ?? failure.Code);
    } catch (error) {
      for (const c of chunk) this.#warn(c.message, error);
    }
  }

  #warn(message: InboxMessage | undefined, error: unknown): void {
    this.logger.warn('could not delay the message; the queue visibility timeout applies', {
      messageId: message?.messageId,
      error,
    });
  }
}
