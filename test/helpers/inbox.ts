import { randomUUID } from 'node:crypto';
import type { EventEnvelope, InboxMessage } from '../../lib/consumer/index.js';
import { EnvelopeDefaults, type EventInput } from '../../lib/envelope/envelope.js';
import { newEventId } from '../../lib/envelope/event-id.js';

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
export function bridgeEvent(event: EventEnvelope) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': event.type,
    source: event.source,
    account: '000000000000',
    time: event.time,
    region: 'us-east-1',
    resources: [],
    detail: event,
  };
}

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
  return {
    Records: messages.map((m) => ({
      messageId: m.messageId,
      receiptHandle: m.receiptHandle ?? '',
      body: String(m.body),
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: '0',
        SenderId: 'sender',
        ApproximateFirstReceiveTimestamp: '0',
        ...(m.groupId ? { MessageGroupId: m.groupId } : {}),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: m.queueArn ?? '',
      awsRegion: 'us-east-1',
    })),
  };
}
