import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableLayout } from '../../transaction/actions.js';

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
  keys: readonly Record<string, string>[],
): Promise<Map<string, boolean>> {
  const partitionOf = (item: Record<string, unknown>) => String(item[layout.partitionKey]);
  const known = new Map<string, boolean>();
  const unique = [...new Map(keys.map((k) => [partitionOf(k), k])).values()];
  for (let start = 0; start < unique.length; start += MAX_KEYS) {
    const chunk = unique.slice(start, start + MAX_KEYS);
    const response = await client.send(
      new BatchGetCommand({
        RequestItems: {
          [layout.tableName]: {
            Keys: chunk,
            ConsistentRead: true,
            ProjectionExpression: '#pk',
            ExpressionAttributeNames: { '#pk': layout.partitionKey },
          },
        },
      }),
    );
    const found = new Set((response.Responses?.[layout.tableName] ?? []).map(partitionOf));
    const unprocessed = new Set(
      (response.UnprocessedKeys?.[layout.tableName]?.Keys ?? []).map(partitionOf),
    );
    for (const key of chunk.map(partitionOf))
      if (!unprocessed.has(key)) known.set(key, found.has(key));
  }
  return known;
}
