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
      /**
       * An EventBridge event as a consumer's queue holds it, in its dead-letter queue: one
       * EventBridge could not deliver to the queue (the reason is from its message
       * attributes, ERROR_CODE and ERROR_MESSAGE), or one the queue's redrive policy moved
       * there with no reason. Either goes back to the consumer's queue.
       */
      readonly kind: 'eventbridge.undelivered';
      readonly reason: string;
      readonly body: string;
    }
  | {
      /** Anything else (a queue's own redrive of a message without a reason, say). */
      readonly kind: 'unknown';
      readonly reason: string;
      readonly body: string;
    };

/** Tells a dead-letter body's kind; never throws. */
export function parseDeadLetter(
  body: string,
  attributes: Readonly<Record<string, { readonly StringValue?: string }>> = {},
): ParsedDeadLetter {
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
  if (
    letter &&
    typeof letter === 'object' &&
    'detail-type' in letter &&
    'source' in letter &&
    'detail' in letter
  ) {
    const code = attributes.ERROR_CODE?.StringValue;
    const message = attributes.ERROR_MESSAGE?.StringValue;
    return {
      kind: 'eventbridge.undelivered',
      reason: code
        ? `EventBridge could not deliver it to its target: ${code}${message ? ` (${message})` : ''}`
        : "an event with no reason recorded: EventBridge could not deliver it, or the queue's redrive policy moved it after maxReceiveCount",
      body,
    };
  }
  return { kind: 'unknown', reason: 'no reason recorded', body };
}

/** What an operator filters and groups dead letters by. */
export interface LetterSummary {
  readonly kind: ParsedDeadLetter['kind'];
  readonly reason: string;
  readonly eventId?: string;
  readonly eventType?: string;
  readonly aggregate?: string;
  readonly tenantId?: string;
  /** For consumer letters: whose. */
  readonly consumer?: string;
  readonly deadLetteredAt?: string;
}

function envelopeFields(envelope: unknown) {
  const e = envelope as {
    id?: string;
    type?: string;
    aggregate?: { type?: string; id?: string };
    tenantId?: string;
  } | null;
  if (!e || typeof e !== 'object') return {};
  return {
    ...(e.id ? { eventId: e.id } : {}),
    ...(e.type ? { eventType: e.type } : {}),
    ...(e.aggregate?.type ? { aggregate: `${e.aggregate.type}#${e.aggregate.id}` } : {}),
    ...(e.tenantId ? { tenantId: e.tenantId } : {}),
  };
}

/** Envelopes already parsed: sorting and grouping letters ask for each many times. */
const envelopes = new WeakMap<ParsedDeadLetter, unknown>();

/** The envelope a letter carries: the relay's stream record's detail, or the consumer's message's detail. */
export function letterEnvelope(letter: ParsedDeadLetter): unknown {
  if (!envelopes.has(letter)) envelopes.set(letter, parseEnvelopeOf(letter));
  return envelopes.get(letter);
}

function parseEnvelopeOf(letter: ParsedDeadLetter): unknown {
  try {
    if (letter.kind === 'eventbox.relay.dead-letter') {
      const record = letter.record as { dynamodb?: { NewImage?: { detail?: { S?: string } } } };
      const detail = record.dynamodb?.NewImage?.detail?.S;
      return detail ? JSON.parse(detail) : undefined;
    }
    if (
      letter.kind === 'eventbox.consumer.dead-letter' ||
      letter.kind === 'eventbridge.undelivered'
    ) {
      const body = typeof letter.body === 'string' ? JSON.parse(letter.body) : letter.body;
      return (body as { detail?: unknown } | null)?.detail;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** A letter's fields, for filtering and grouping. */
export function summarizeLetter(letter: ParsedDeadLetter): LetterSummary {
  const base = { kind: letter.kind, reason: letter.reason };
  if (
    letter.kind === 'eventbox.relay.dead-letter' ||
    letter.kind === 'eventbox.consumer.dead-letter'
  ) {
    return {
      ...base,
      ...envelopeFields(letterEnvelope(letter)),
      ...(letter.eventId ? { eventId: letter.eventId } : {}),
      ...(letter.kind === 'eventbox.consumer.dead-letter' ? { consumer: letter.consumer } : {}),
      deadLetteredAt: letter.deadLetteredAt,
    };
  }
  if (letter.kind === 'eventbridge.undelivered')
    return { ...base, ...envelopeFields(letterEnvelope(letter)) };
  return base;
}

/** A reason with the event-specific parts (ids, counts) left out: what letters group by. */
export function reasonKind(reason: string): string {
  return reason
    .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, '<id>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f-]{27,}\b/g, '<uuid>')
    .replace(/after \d+ attempts/, 'after N attempts')
    .replace(/\d+/g, 'N');
}
