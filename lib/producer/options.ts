import { z } from 'zod';
import { sourceSchema } from '../envelope/schema.js';
import { Limits } from '../shared/limits.js';
import { OutboxItem } from '../shared/outbox-item.js';
import { notBoth } from '../shared/validate-options.js';

const name = z.string().min(1, 'must not be empty');

export const eventBoxOptionsSchema = z
  .strictObject({
    tableName: name,
    source: sourceSchema,
    client: z.unknown().optional(),
    clientConfig: z.record(z.string(), z.unknown()).optional(),
    keys: z.strictObject({ partitionKey: name.optional(), sortKey: name.optional() }).optional(),
    versionAttribute: name.optional(),
    outbox: z
      .strictObject({
        tableName: name.optional(),
        ttlSeconds: z.number().int().min(60, 'must be at least 60 seconds').optional(),
        ttlAttribute: name.optional(),
      })
      .optional(),
    tenantId: name.optional(),
    maxEventBytes: z
      .number()
      .int()
      .min(Limits.minEventBytes, `must be at least ${Limits.minEventBytes}`)
      .max(Limits.maxEventBytes, `must be at most ${Limits.maxEventBytes}`)
      .optional(),
  })
  .refine(...notBoth('client', 'clientConfig'));

export const EventBoxDefaults = {
  partitionKey: 'pk',
  sortKey: 'sk',
  versionAttribute: 'version',
  outboxTtlSeconds: OutboxItem.defaultTtlSeconds,
  ttlAttribute: OutboxItem.defaultTtlAttribute,
  maxEventBytes: Limits.maxEventBytes,
} as const;
