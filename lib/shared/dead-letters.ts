/**
 * The dead letters Eventbox writes, and the one Lambda writes when a stream event source
 * mapping gives up on a batch: how to tell them apart when reading a dead-letter queue.
 */

/** The body of a relay dead-letter message: enough to understand and redrive the record. */
export interface RelayDeadLetterMessage {
  readonly kind: 'eventbox.relay.dead-letter';
  readonly reason: string;
  readonly errorCode?: string;
  readonly eventId?: string;
  readonly sequenceNumber: string;
  readonly eventSourceArn?: string;
  readonly deadLetteredAt: string;
  /** The original stream record, or its keys only when the record is too large for SQS. */
  readonly record: unknown;
  readonly recordTruncated: boolean;
}

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

export type ParsedDeadLetter =
  | RelayDeadLetterMessage
  | ConsumerDeadLetterMessage
  | {
      /** Lambda's on-failure record: the mapping gave up on a batch (only shard and sequence numbers). */
      readonly kind: 'lambda.on-failure';
      readonly reason: string;
      readonly record: unknown;
    }
  | {
      /** Anything else (a queue's own redrive of a message without a reason, say). */
      readonly kind: 'unknown';
      readonly reason: string;
      readonly body: string;
    };

/** Tells a dead-letter body's kind; never throws. */
export function parseDeadLetter(body: string): ParsedDeadLetter {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { kind: 'unknown', reason: 'not JSON', body };
  }
  const letter = value as Record<string, unknown> | null;
  if (
    letter?.kind === 'eventbox.relay.dead-letter' ||
    letter?.kind === 'eventbox.consumer.dead-letter'
  )
    return letter as unknown as RelayDeadLetterMessage | ConsumerDeadLetterMessage;
  const context = letter?.requestContext as { condition?: string } | undefined;
  if (context?.condition !== undefined) {
    return {
      kind: 'lambda.on-failure',
      reason: `event source mapping gave up: ${context.condition}`,
      record: letter,
    };
  }
  return { kind: 'unknown', reason: 'no reason recorded', body };
}
