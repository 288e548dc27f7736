import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TransactionSettings } from '../../lib/transaction/transaction.js';

export const FIXED_NOW = new Date('2026-01-02T03:04:05.678Z');

/** Transaction settings for unit tests: a client that is never reached, a fixed clock. */
export function testSettings(overrides: Partial<TransactionSettings> = {}): TransactionSettings {
  const layout = {
    tableName: 'orders',
    partitionKey: 'pk',
    sortKey: 'sk',
    versionAttribute: 'version',
  };
  return {
    client: DynamoDBDocumentClient.from(
      new DynamoDBClient({
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      }),
    ),
    layout,
    outbox: { layout, ttlSeconds: 604_800, ttlAttribute: 'ttl' },
    source: 'orders',
    maxEventBytes: 1024 * 1024,
    now: () => FIXED_NOW,
    ...overrides,
  };
}
