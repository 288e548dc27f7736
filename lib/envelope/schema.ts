// zod's mini build: the same schemas and messages, tree-shaken to what is used, so the
// relay that parses every record it publishes does not load all of zod.
import * as z from 'zod/mini';
import { ULID_PATTERN } from './ulid-pattern.js';

const text = (max: number) =>
  z.string().check(
    z.minLength(1, 'must not be empty'),
    z.maxLength(max, `must be at most ${max} characters`),
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    z.refine((s) => !/[\u0000-\u001f]/.test(s), 'must not contain control characters'),
  );

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number({ error: 'must be a number' })
    .check(
      z.refine(Number.isInteger, 'must be an integer'),
      z.gte(min, `must be at least ${min}`),
      z.lte(max, 'must be a safe integer'),
    );

const present = z
  .unknown()
  .check(z.refine((p) => p !== undefined, 'is required (use null for no payload)'));

export const aggregateSchema = z.strictObject({
  type: text(256).check(z.refine((s) => !s.includes('#'), 'must not contain "#"')),
  id: text(1024),
  version: integer(1),
});

const optionalFields = {
  tenantId: z.optional(text(256)),
  correlationId: z.optional(text(256)),
  causationId: z.optional(text(256)),
};

export const eventInputSchema = z.strictObject({
  type: text(256),
  aggregate: aggregateSchema,
  payload: present,
  ...optionalFields,
  schemaVersion: z.optional(integer(1)),
  contentType: z.optional(text(256)),
});

/** `aws.` sources are reserved by EventBridge and rejected by PutEvents. */
export const sourceSchema = text(256).check(
  z.refine(
    (s) => !s.toLowerCase().startsWith('aws.'),
    'must not start with "aws." (reserved by AWS)',
  ),
);

export const envelopeSchema = z.strictObject({
  id: z.string().check(z.regex(ULID_PATTERN, 'must be a ULID (26 Crockford base32 characters)')),
  type: text(256),
  source: sourceSchema,
  time: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time' }),
  aggregate: aggregateSchema,
  ...optionalFields,
  schemaVersion: integer(1),
  contentType: text(256),
  payload: present,
});
