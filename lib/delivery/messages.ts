import type { EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { parseEnvelope } from '../envelope/create.js';
import type { EventEnvelope } from '../envelope/envelope.js';
import { InvalidEventError } from '../envelope/errors.js';
import { InvalidMessageError, UnsupportedInvocationError } from './errors.js';

/** One delivery of one event, whatever brought it. */
export interface InboxMessage {
  /** The SQS message id, or the EventBridge event id for a direct invocation. */
  readonly messageId: string;
  readonly origin: 'sqs' | 'eventbridge';
  /** The SQS body (text) or the EventBridge event (object). */
  readonly body: unknown;
  /** 1 on the first delivery; SQS's ApproximateReceiveCount afterwards. */
  readonly receiveCount: number;
  readonly receiptHandle?: string;
  readonly queueArn?: string;
  /** The FIFO message group, if any. */
  readonly groupId?: string;
  /** When this invocation got the message (ms): SQS's 12-hour visibility limit counts from about then. */
  readonly receivedAt?: number;
}

function isSqsEvent(event: unknown): event is SQSEvent {
  const records = (event as SQSEvent | undefined)?.Records;
  return (
    Array.isArray(records) && records.every((r) => (r as SQSRecord)?.eventSource === 'aws:sqs')
  );
}

function isEventBridgeEvent(event: unknown): event is EventBridgeEvent<string, unknown> {
  const e = event as Record<string, unknown> | undefined;
  return (
    typeof e === 'object' && e !== null && 'detail-type' in e && 'detail' in e && 'source' in e
  );
}

/** The messages of an invocation: an SQS batch, or one EventBridge event delivered directly. */
export function messagesOf(event: unknown, now: number = Date.now()): InboxMessage[] {
  if (isSqsEvent(event)) {
    return event.Records.map((record) => ({
      messageId: record.messageId,
      origin: 'sqs',
      body: record.body,
      receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1,
      receiptHandle: record.receiptHandle,
      queueArn: record.eventSourceARN,
      ...(record.attributes?.MessageGroupId ? { groupId: record.attributes.MessageGroupId } : {}),
      receivedAt: now,
    }));
  }
  if (isEventBridgeEvent(event)) {
    return [
      { messageId: String(event.id ?? ''), origin: 'eventbridge', body: event, receiveCount: 1 },
    ];
  }
  throw new UnsupportedInvocationError(
    'The inbox handles SQS events whose bodies are EventBridge events, or EventBridge events delivered directly',
  );
}

/**
 * The envelope a message carries: the `detail` of an EventBridge event, whose `detail-type`
 * and `source` must agree with it.
 * @throws InvalidMessageError with the reason; such a message can never be handled.
 */
export function envelopeOf(message: InboxMessage): EventEnvelope {
  let bridged: unknown = message.body;
  if (typeof bridged === 'string') {
    try {
      bridged = JSON.parse(bridged);
    } catch (cause) {
      throw new InvalidMessageError('the message body is not JSON', [], { cause });
    }
  }
  if (!isEventBridgeEvent(bridged)) {
    throw new InvalidMessageError(
      'the message is not an EventBridge event (no detail-type, source and detail)',
    );
  }
  let envelope: EventEnvelope;
  try {
    envelope = parseEnvelope(bridged.detail);
  } catch (error) {
    if (error instanceof InvalidEventError) {
      throw new InvalidMessageError('the detail is not a valid event envelope', error.problems, {
        cause: error,
      });
    }
    throw error;
  }
  const problems = [
    bridged['detail-type'] === envelope.type
      ? undefined
      : `detail-type "${bridged['detail-type']}" differs from the envelope type "${envelope.type}"`,
    bridged.source === envelope.source
      ? undefined
      : `source "${bridged.source}" differs from the envelope source "${envelope.source}"`,
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0)
    throw new InvalidMessageError('the EventBridge event does not match its envelope', problems);
  return envelope;
}
