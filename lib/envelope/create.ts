import { describeIssues } from '../shared/zod-problems.js';
import { EnvelopeDefaults, type EventEnvelope, type EventInput } from './envelope.js';
import { InvalidEventError } from './errors.js';
import { newEventId } from './event-id.js';
import { envelopeSchema, eventInputSchema, sourceSchema } from './schema.js';

function typeOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' ? type : undefined;
}

/**
 * Builds a validated envelope from what a producer supplies.
 * @throws InvalidEventError naming every invalid field.
 */
export function createEnvelope<TPayload>(
  input: EventInput<TPayload>,
  context: { source: string; now?: Date },
): EventEnvelope<TPayload> {
  const parsed = eventInputSchema.safeParse(input);
  const source = sourceSchema.safeParse(context.source);
  if (!parsed.success || !source.success) {
    const problems = [
      ...(parsed.success ? [] : describeIssues(parsed.error)),
      ...(source.success
        ? []
        : describeIssues(source.error).map((p) => p.replace('(root)', 'source'))),
    ];
    throw new InvalidEventError(problems, typeOf(input));
  }
  const now = context.now ?? new Date();
  const envelope: EventEnvelope<TPayload> = {
    id: newEventId(now.getTime()),
    type: input.type,
    source: context.source,
    time: now.toISOString(),
    aggregate: {
      type: input.aggregate.type,
      id: input.aggregate.id,
      version: input.aggregate.version,
    },
    ...(input.tenantId === undefined ? {} : { tenantId: input.tenantId }),
    ...(input.correlationId === undefined ? {} : { correlationId: input.correlationId }),
    ...(input.causationId === undefined ? {} : { causationId: input.causationId }),
    schemaVersion: input.schemaVersion ?? EnvelopeDefaults.schemaVersion,
    contentType: input.contentType ?? EnvelopeDefaults.contentType,
    payload: input.payload,
  };
  return envelope;
}

/**
 * Validates something received (a bus `detail`, a parsed outbox item) as an envelope.
 * @throws InvalidEventError naming every invalid field.
 */
export function parseEnvelope(value: unknown): EventEnvelope {
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) throw new InvalidEventError(describeIssues(parsed.error), typeOf(value));
  return parsed.data as EventEnvelope;
}

/**
 * The envelope as the JSON text that becomes the EventBridge `detail`.
 * @throws InvalidEventError when the payload cannot be represented in JSON
 * (a BigInt, a cycle, a non-finite number).
 */
export function serializeEnvelope(envelope: EventEnvelope): string {
  let problem: string | undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(envelope, (key, value: unknown) => {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        problem ??= `payload${key ? `.${key}` : ''}: ${value} is not representable in JSON`;
      }
      return value;
    });
  } catch (cause) {
    throw new InvalidEventError(
      [`payload: cannot be serialized to JSON (${(cause as Error).message})`],
      envelope.type,
      { cause },
    );
  }
  if (problem) throw new InvalidEventError([problem], envelope.type);
  if (json === undefined) throw new InvalidEventError(['payload: not serializable'], envelope.type);
  return json;
}

/**
 * Size of the PutEvents entry this envelope becomes, computed as EventBridge does:
 * UTF-8 bytes of Source, DetailType and Detail, plus 14 bytes for Time.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html
 */
export function putEventsEntrySize(
  envelope: Pick<EventEnvelope, 'source' | 'type'>,
  detail: string,
): number {
  return (
    14 +
    Buffer.byteLength(envelope.source, 'utf8') +
    Buffer.byteLength(envelope.type, 'utf8') +
    Buffer.byteLength(detail, 'utf8')
  );
}
