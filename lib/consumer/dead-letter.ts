import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EventEnvelope } from '../envelope/envelope.js';
import type { InboxMessage } from './messages.js';

/** The body of a consumer dead-letter message: the reason, and the message as it came. */
export interface ConsumerDeadLetterMessage {
  readonly kind: 'eventbox.consumer.dead-letter';
  readonly consumer: string;
  readonly reason: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly messageId: string;
  readonly receiveCount: number;
  readonly deadLetteredAt: string;
  /** The original SQS body (text) or EventBridge event. */
  readonly body: unknown;
}

export async function sendConsumerDeadLetter(
  sqs: SQSClient,
  queueUrl: string,
  consumer: string,
  message: InboxMessage,
  reason: string,
  event: EventEnvelope | undefined,
): Promise<void> {
  const letter: ConsumerDeadLetterMessage = {
    kind: 'eventbox.consumer.dead-letter',
    consumer,
    reason,
    ...(event ? { eventId: event.id, eventType: event.type } : {}),
    messageId: message.messageId,
    receiveCount: message.receiveCount,
    deadLetteredAt: new Date().toISOString(),
    body: message.body,
  };
  await sqs.send(
    new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(letter) }),
  );
}
