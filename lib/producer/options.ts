import * as z from 'zod/mini';
import { OutboxItem } from '../envelope/outbox-item.js';
import { sourceSchema } from '../envelope/schema.js';
import { Limits } from '../shared/limits.js';
import { OptionChecks } from '../shared/option-checks.js';
import { notBoth } from '../shared/validate-options.js';

const { nonEmpty } = OptionChecks;
const name = z.optional(nonEmpty);

// zod/mini: a producer's bundle carries only the checks it uses.
export const eventBoxOptionsSchema = z
  .strictObject({
    tableName: nonEmpty,
    source: sourceSchema,
    client: z.optional(z.unknown()),
    clientConfig: z.optional(z.record(z.string(), z.unknown())),
    keys: z.optional(z.strictObject({ partitionKey: name, sortKey: name })),
    versionAttribute: name,
    outbox: z.optional(
      z.strictObject({
        tableName: name,
        ttlSeconds: z.optional(
          z
            .number()
            .check(
              z.refine(Number.isInteger, 'must be an integer'),
              z.gte(60, 'must be at least 60 seconds'),
              z.lte(Number.MAX_SAFE_INTEGER, 'must be a safe integer'),
            ),
        ),
        ttlAttribute: name,
      }),
    ),
    tenantId: name,
    maxEventBytes: z.optional(
      z
        .number()
        .check(
          z.refine(Number.isInteger, 'must be an integer'),
          z.gte(Limits.minEventBytes, `must be at least ${Limits.minEventBytes}`),
          z.lte(Limits.maxEventBytes, `must be at most ${Limits.maxEventBytes}`),
        ),
    ),
  })
  .check(z.refine(...notBoth('client', 'clientConfig')));

export const EventBoxDefaults = {
  partitionKey: 'pk',
  sortKey: 'sk',
  versionAttribute: 'version',
  outboxTtlSeconds: OutboxItem.defaultTtlSeconds,
  ttlAttribute: OutboxItem.defaultTtlAttribute,
  maxEventBytes: Limits.maxEventBytes,
} as const;
