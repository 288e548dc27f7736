import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RelayDeadLetterMessage } from '../shared/dead-letters.js';
import type { DeadLetter } from './publisher.js';

/** SQS's message limit is 1 MiB (256 KiB before August 2025); stay under the older one. */
const MAX_BODY_BYTES = 250 * 1024;
/** A SendMessageBatch request's bodies together are held to the same older limit. */
const MAX_BATCH_BYTES = 256 * 1024;
const MAX_BATCH_ENTRIES = 10;

/** Consecutive runs of at most 10 bodies whose sizes together stay under the batch limit. */
export function packByBytes(bodies: readonly string[]): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  bodies.forEach((body, i) => {
    const size = Buffer.byteLength(body, 'utf8');
    if (
      current.length === MAX_BATCH_ENTRIES ||
      (current.length > 0 && bytes + size > MAX_BATCH_BYTES)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

export function deadLetterBody(letter: DeadLetter, now: Date = new Date()): string {
  const { record } = letter.record;
  const base = {
    kind: 'eventbox.relay.dead-letter' as const,
    reason: letter.reason,
    ...(letter.errorCode ? { errorCode: letter.errorCode } : {}),
    ...(letter.record.eventId ? { eventId: letter.record.eventId } : {}),
    sequenceNumber: letter.record.sequenceNumber,
    ...(record.eventSourceARN ? { eventSourceArn: record.eventSourceARN } : {}),
    deadLetteredAt: now.toISOString(),
  };
  const full = JSON.stringify({
    ...base,
    record,
    recordTruncated: false,
  } satisfies RelayDeadLetterMessage);
  if (Buffer.byteLength(full, 'utf8') <= MAX_BODY_BYTES) return full;
  const keysOnly = {
    eventName: record.eventName,
    dynamodb: { Keys: record.dynamodb?.Keys, SequenceNumber: record.dynamodb?.SequenceNumber },
  };
  return JSON.stringify({
    ...base,
    record: keysOnly,
    recordTruncated: true,
  } satisfies RelayDeadLetterMessage);
}

/**
 * Sends dead letters to an SQS queue in batches packed by count and bytes, and reports, per
 * letter, whether SQS stored it; a letter that was not stored must be reported as a failed
 * record, never dropped. A batch refused as a whole is sent again one letter at a time.
 * `sqs` is called on the first letter only, so a relay that meets no poison record never
 * loads the SQS client (its module is imported then too).
 */
export function sqsDeadLetterSender(
  sqs: () => Promise<SQSClient>,
  queueUrl: string,
  onError: (error: unknown) => void = () => {},
) {
  const sendOne = async (body: string): Promise<boolean> => {
    try {
      const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
      await (await sqs()).send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
      return true;
    } catch (error) {
      // Left false: the caller reports the record as failed so the stream retries it.
      onError(error);
      return false;
    }
  };
  return async (letters: readonly DeadLetter[]): Promise<boolean[]> => {
    const bodies = letters.map((letter) => deadLetterBody(letter));
    const stored = letters.map(() => false);
    for (const batch of packByBytes(bodies)) {
      if (batch.length === 1) {
        const [only] = batch as [number];
        stored[only] = await sendOne(bodies[only] as string);
        continue;
      }
      try {
        const { SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
        const response = await (await sqs()).send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((i) => ({ Id: String(i), MessageBody: bodies[i] })),
          }),
        );
        for (const ok of response.Successful ?? []) stored[Number(ok.Id)] = true;
        if ((response.Failed ?? []).length > 0)
          onError(
            new Error(
              `SQS refused ${response.Failed?.length} dead letter(s): ${JSON.stringify(response.Failed)}`,
            ),
          );
      } catch (error) {
        onError(error);
        for (const i of batch) stored[i] = await sendOne(bodies[i] as string);
      }
    }
    return stored;
  };
}
