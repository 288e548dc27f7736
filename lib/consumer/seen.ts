import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableLayout } from '../transaction/actions.js';
import { InboxItem } from './inbox-item.js';

/** BatchGetItem takes at most 100 keys a call. */
const MAX_KEYS = 100;

/**
 * Which of these inbox records exist, by their partition key (one per event), read
 * consistently with one BatchGetItem per 100 keys: one call for a whole SQS batch where a
 * GetItem per message would make ten. A key DynamoDB left unprocessed is left out of the
 * answer, and its message reads on its own.
 */
export async function readInboxRecords(
  client: DynamoDBDocumentClient,
  layout: TableLayout,
  partitions: readonly string[],
): Promise<Map<string, boolean>> {
  const known = new Map<string, boolean>();
  const unique = [...new Set(partitions)];
  for (let start = 0; start < unique.length; start += MAX_KEYS) {
    const chunk = unique.slice(start, start + MAX_KEYS);
    const response = await client.send(
      new BatchGetCommand({
        RequestItems: {
          [layout.tableName]: {
            Keys: chunk.map((p) => ({
              [layout.partitionKey]: p,
              [layout.sortKey]: InboxItem.sortKey,
            })),
            ConsistentRead: true,
            ProjectionExpression: '#pk',
            ExpressionAttributeNames: { '#pk': layout.partitionKey },
          },
        },
      }),
    );
    const partitionOf = (item: Record<string, unknown>) => String(item[layout.partitionKey]);
    const found = new Set((response.Responses?.[layout.tableName] ?? []).map(partitionOf));
    const unprocessed = new Set(
      (response.UnprocessedKeys?.[layout.tableName]?.Keys ?? []).map(partitionOf),
    );
    for (const p of chunk) if (!unprocessed.has(p)) known.set(p, found.has(p));
  }
  return known;
}
