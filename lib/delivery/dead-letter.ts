import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { EventEnvelope } from '../envelope/envelope.js';
import type { ConsumerDeadLetterMessage } from '../shared/dead-letters.js';
import type { InboxMessage } from './messages.js';

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
