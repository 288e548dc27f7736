import {
  DescribeTableCommand,
  type KeySchemaElement,
  type KeyType,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OutboxItem } from '../envelope/outbox-item.js';
import { EventBoxError } from '../shared/errors.js';

/**
 * A table `outbox replay` cannot read: absent, not describable, no sort key, no by-time
 * index, one with other keys, or one still being built.
 */
export class ReplayTableError extends EventBoxError {
  override name = 'ReplayTableError';

  constructor(
    readonly tableName: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`table ${tableName} cannot be replayed: ${reason}`, options);
  }
}

/** The key attribute names of a table whose outbox items a replay can find. */
export interface ReplayableTable {
  readonly tableName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/**
 * Reads the table's description: its key names (EventBox lets a table name its keys) and
 * whether its by-time index is there and active. Throws `ReplayTableError` with what to do
 * otherwise: a replay that quietly found nothing would look like a window with no events.
 */
export async function replayableTable(
  client: DynamoDBDocumentClient,
  tableName: string,
): Promise<ReplayableTable> {
  return replayableFrom(tableName, await describeTable(client, tableName));
}

/** The table's description; `ReplayTableError` when it is absent or may not be described. */
export async function describeTable(
  client: DynamoDBDocumentClient,
  tableName: string,
): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    const { name, message } = error as Error;
    if (name === 'ResourceNotFoundException')
      throw new ReplayTableError(tableName, 'it does not exist', { cause: error });
    if (name === 'AccessDeniedException')
      throw new ReplayTableError(tableName, `describing it is not allowed: ${message}`, {
        cause: error,
      });
    throw error;
  }
}

const keyNamed = (schema: readonly KeySchemaElement[] | undefined, type: KeyType) =>
  schema?.find((k) => k.KeyType === type)?.AttributeName;

/** `replayableTable` on a description already read. */
export function replayableFrom(
  tableName: string,
  table: TableDescription | undefined,
): ReplayableTable {
  const partitionKey = keyNamed(table?.KeySchema, 'HASH');
  const sortKey = keyNamed(table?.KeySchema, 'RANGE');
  if (!partitionKey || !sortKey)
    throw new ReplayTableError(tableName, 'it has no sort key, so it holds no outbox items');
  const index = table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === OutboxItem.byTimeIndex);
  if (!index) {
    throw new ReplayTableError(
      tableName,
      `it has no ${OutboxItem.byTimeIndex} index to find outbox items by time without a scan; add one (partition key ${OutboxItem.bucketAttribute}, sort key ${OutboxItem.timeAttribute}, both strings) and replay once it is active: the outbox items written before it are indexed too`,
    );
  }
  const indexHash = keyNamed(index.KeySchema, 'HASH');
  const indexRange = keyNamed(index.KeySchema, 'RANGE');
  if (
    index.KeySchema &&
    (indexHash !== OutboxItem.bucketAttribute || indexRange !== OutboxItem.timeAttribute)
  ) {
    throw new ReplayTableError(
      tableName,
      `its ${OutboxItem.byTimeIndex} index has the keys ${indexHash} and ${indexRange}, not ${OutboxItem.bucketAttribute} and ${OutboxItem.timeAttribute}`,
    );
  }
  if (index.IndexStatus && index.IndexStatus !== 'ACTIVE') {
    throw new ReplayTableError(
      tableName,
      `its ${OutboxItem.byTimeIndex} index is ${index.IndexStatus}; replay once it is ACTIVE`,
    );
  }
  return { tableName, partitionKey, sortKey };
}
