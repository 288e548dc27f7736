import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { EventEnvelope } from '../envelope/envelope.js';
import { describeIssues } from '../shared/standard-schema-problems.js';
import { InvalidMessageError } from './errors.js';

/** Payload schemas by event type: zod, valibot, arktype or any Standard Schema. */
export type PayloadSchemas = Readonly<Record<string, StandardSchemaV1>>;

/** An envelope whose `type` is one literal and whose payload has that type's schema output. */
export type TypedEnvelope<TType extends string, TPayload> = Omit<
  EventEnvelope<TPayload>,
  'type'
> & { readonly type: TType };

/**
 * The event a handler receives with these schemas: a union discriminated on `type`, each
 * member's payload typed by its schema's output. Narrow it with `switch (event.type)`.
 * @example export async function handle(event: EventOf<typeof schemas>, ctx: InboxContext) { ... }
 */
export type EventOf<TSchemas extends PayloadSchemas> = {
  [K in keyof TSchemas & string]: TypedEnvelope<K, StandardSchemaV1.InferOutput<TSchemas[K]>>;
}[keyof TSchemas & string];

/**
 * Validates the payload against its type's schema and returns the envelope with the
 * schema's output (so transforms and defaults apply).
 * @throws InvalidMessageError for a schema failure, or an unknown type when `strict`.
 */
export async function validatePayload(
  envelope: EventEnvelope,
  schemas: PayloadSchemas | undefined,
  strict: boolean,
): Promise<EventEnvelope> {
  if (!schemas) return envelope;
  const schema = schemas[envelope.type];
  if (!schema) {
    if (strict)
      throw new InvalidMessageError(`unknown event type "${envelope.type}": no schema for it`);
    return envelope;
  }
  const result = await schema['~standard'].validate(envelope.payload);
  if (result.issues) {
    throw new InvalidMessageError(
      `the payload of ${envelope.type} fails its schema`,
      describeIssues(result.issues, 'payload'),
    );
  }
  return { ...envelope, payload: result.value };
}
