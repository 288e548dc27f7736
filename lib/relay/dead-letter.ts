import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RelayDeadLetterMessage } from '../shared/dead-letters.js';
import type { DeadLetter } from './publisher.js';

/** SQS's message limit is 1 MiB (256 KiB before August 2025); stay under the older one. */
const MAX_BODY_BYTES = 250 * 1024;

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
 * Sends dead letters to an SQS queue in batches of 10 and reports, per letter, whether SQS
 * stored it; a letter that was not stored must be reported as a failed record, never dropped.
 */
export function sqsDeadLetterSender(
  sqs: SQSClient,
  queueUrl: string,
  onError: (error: unknown) => void = () => {},
) {
  return async (letters: readonly DeadLetter[]): Promise<boolean[]> => {
    const stored = letters.map(() => false);
    for (let start = 0; start < letters.length; start += 10) {
      const batch = letters.slice(start, start + 10);
      try {
        const response = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((letter, i) => ({
              Id: String(start + i),
              MessageBody: deadLetterBody(letter),
            })),
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
        // Left false: the caller reports these records as failed so the stream retries them.
        onError(error);
      }
    }
    return stored;
  };
}
