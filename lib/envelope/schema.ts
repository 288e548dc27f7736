import { z } from 'zod';
import { ULID_PATTERN } from './event-id.js';

const text = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    .refine((s) => !/[\u0000-\u001f]/.test(s), 'must not contain control characters');

export const aggregateSchema = z.strictObject({
  type: text(256).refine((s) => !s.includes('#'), 'must not contain "#"'),
  id: text(1024),
  version: z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(Number.MAX_SAFE_INTEGER, 'must be a safe integer'),
});

const optionalFields = {
  tenantId: text(256).optional(),
  correlationId: text(256).optional(),
  causationId: text(256).optional(),
};

export const eventInputSchema = z.strictObject({
  type: text(256),
  aggregate: aggregateSchema,
  payload: z.unknown().refine((p) => p !== undefined, 'is required (use null for no payload)'),
  ...optionalFields,
  schemaVersion: z.number().int('must be an integer').min(1, 'must be at least 1').optional(),
  contentType: text(256).optional(),
});

/** `aws.` sources are reserved by EventBridge and rejected by PutEvents. */
export const sourceSchema = text(256).refine(
  (s) => !s.toLowerCase().startsWith('aws.'),
  'must not start with "aws." (reserved by AWS)',
);

export const envelopeSchema = z.strictObject({
  id: z.string().regex(ULID_PATTERN, 'must be a ULID (26 Crockford base32 characters)'),
  type: text(256),
  source: sourceSchema,
  time: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
  aggregate: aggregateSchema,
  ...optionalFields,
  schemaVersion: z.number().int('must be an integer').min(1, 'must be at least 1'),
  contentType: text(256),
  payload: z.unknown().refine((p) => p !== undefined, 'is required (use null for no payload)'),
});
