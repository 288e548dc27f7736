import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { EventBoxError } from '../shared/errors.js';
import { OutboxItem } from '../shared/outbox-item.js';

/** A table `outbox replay` cannot read: no by-time index, one still being built, or no sort key. */
export class ReplayTableError extends EventBoxError {
  override name = 'ReplayTableError';

  constructor(
    readonly tableName: string,
    reason: string,
  ) {
    super(`table ${tableName} cannot be replayed: ${reason}`);
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
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const keyOf = (type: string) => Table?.KeySchema?.find((k) => k.KeyType === type)?.AttributeName;
  const partitionKey = keyOf('HASH');
  const sortKey = keyOf('RANGE');
  if (!partitionKey || !sortKey)
    throw new ReplayTableError(tableName, 'it has no sort key, so it holds no outbox items');
  const index = Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === OutboxItem.byTimeIndex);
  if (!index) {
    throw new ReplayTableError(
      tableName,
      `it has no ${OutboxItem.byTimeIndex} index to find outbox items by time without a scan; add one (partition key ${OutboxItem.bucketAttribute}, sort key ${OutboxItem.timeAttribute}, both strings) and replay once it is active: the outbox items written before it are indexed too`,
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
