import { randomUUID } from 'node:crypto';
import type { EventEnvelope, InboxMessage } from '../../lib/consumer/index.js';
import { EnvelopeDefaults, type EventInput } from '../../lib/envelope/envelope.js';
import { newEventId } from '../../lib/envelope/event-id.js';
import {
  eventBridgeEventOf,
  sqsEventOf as kitSqsEventOf,
  sqsRecordOf,
} from '../../lib/testing/builders.js';

/** An envelope as a producer would have published it. */
export function envelope<T>(input: EventInput<T> & { source?: string }): EventEnvelope<T> {
  return {
    id: newEventId(),
    source: input.source ?? 'orders',
    time: new Date().toISOString(),
    schemaVersion: EnvelopeDefaults.schemaVersion,
    contentType: EnvelopeDefaults.contentType,
    ...input,
  } as EventEnvelope<T>;
}

/** The EventBridge event a rule delivers for an envelope. */
export const bridgeEvent = eventBridgeEventOf;

/** One SQS delivery of an envelope, as the inbox sees it. */
export function sqsMessage(
  event: EventEnvelope,
  receiveCount = 1,
  extra: Partial<InboxMessage> = {},
): InboxMessage {
  return {
    messageId: randomUUID(),
    origin: 'sqs',
    body: JSON.stringify(bridgeEvent(event)),
    receiveCount,
    receiptHandle: `rh-${randomUUID()}`,
    queueArn: 'arn:aws:sqs:us-east-1:000000000000:user-score',
    ...extra,
  };
}

/** The Lambda SQS event that delivers these messages. */
export function sqsEventOf(messages: readonly InboxMessage[]) {
  return kitSqsEventOf(
    messages.map((m) => ({
      ...sqsRecordOf(
        { rawBody: String(m.body) },
        {
          receiveCount: m.receiveCount,
          messageId: m.messageId,
          ...(m.queueArn ? { queueArn: m.queueArn } : {}),
          ...(m.groupId ? { messageGroupId: m.groupId } : {}),
        },
      ),
      receiptHandle: m.receiptHandle ?? '',
    })),
  );
}
