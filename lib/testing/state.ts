import { type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { InboxItem } from '../consumer/inbox/format.js';
import { type ParsedDeadLetter, parseDeadLetter } from '../shared/dead-letters.js';
import { peekQueue } from './queues.js';

/** An event a consumer applied: its inbox record. */
export interface AppliedEvent {
  readonly eventId: string;
  readonly eventType: string;
  readonly aggregate: { readonly type: string; readonly id: string; readonly version: number };
  /** When the consumer's transaction committed (ISO 8601). */
  readonly processedAt: string;
  readonly status: string;
}

/**
 * Every event a consumer has applied, by event id, read from its inbox records (a
 * consistent scan: for tests, not for production tables).
 */
export async function readInbox(
  ddb: DynamoDBClient,
  tableName: string,
  consumerName: string,
  options: { readonly partitionKey?: string } = {},
): Promise<Map<string, AppliedEvent>> {
  const applied = new Map<string, AppliedEvent>();
  const items = await scanPrefix(
    ddb,
    tableName,
    `${InboxItem.partitionPrefix}${consumerName}#`,
    options.partitionKey,
  );
  for (const item of items) {
    if (item.status !== InboxItem.status.completed) continue;
    applied.set(String(item.eventId), {
      eventId: String(item.eventId),
      eventType: String(item.eventType),
      aggregate: {
        type: String(item.aggregateType),
        id: String(item.aggregateId),
        version: Number(item.aggregateVersion),
      },
      processedAt: String(item.processedAt),
      status: String(item.status),
    });
  }
  return applied;
}

/** Every item whose partition key starts with `prefix` (a consistent scan, for tests). */
export async function scanPrefix(
  ddb: DynamoDBClient,
  tableName: string,
  prefix: string,
  partitionKey = 'pk',
): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  for await (const page of paginateScan(
    { client: ddb },
    {
      TableName: tableName,
      FilterExpression: 'begins_with(#pk, :prefix)',
      ExpressionAttributeNames: { '#pk': partitionKey },
      ExpressionAttributeValues: { ':prefix': { S: prefix } },
      ConsistentRead: true,
    },
  )) {
    items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
  }
  return items;
}

/**
 * The dead letters waiting in a queue, each parsed (relay, consumer, Lambda on-failure or
 * unknown), without consuming them.
 */
export async function readDeadLetters(
  sqs: SQSClient,
  queueUrl: string,
): Promise<Array<ParsedDeadLetter & { readonly messageId: string }>> {
  const messages = await peekQueue(sqs, queueUrl);
  return messages.map((m) => ({ ...parseDeadLetter(m.Body ?? ''), messageId: m.MessageId ?? '' }));
}
