import { randomUUID } from 'node:crypto';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { isConditionFailure } from '../../shared/condition-failure.js';
import type { Item, TableLayout } from '../../transaction/actions.js';
import { ExpressionAttributes } from '../../transaction/expressions.js';
import type { PlannedAction } from '../../transaction/planners.js';
import { INBOX_ACTION, InboxItem } from './format.js';

export interface Lock {
  readonly token: string;
  readonly key: Record<string, string>;
}

export type LockResult =
  | { readonly acquired: Lock }
  | { readonly completed: true }
  | { readonly heldUntil: number };

/**
 * Writes the in-progress record if there is none, or if the one there is in progress with
 * an expired lock (its holder crashed). A completed record means the event was handled.
 */
export async function acquireLock(
  client: DynamoDBDocumentClient,
  layout: TableLayout,
  item: Item,
  key: Record<string, string>,
  lockTtlSeconds: number,
  now: number,
): Promise<LockResult> {
  const token = randomUUID();
  const attributes = new ExpressionAttributes();
  const condition = `attribute_not_exists(${attributes.name(layout.partitionKey)}) OR (${attributes.name('status')} = ${attributes.value(InboxItem.status.inProgress)} AND ${attributes.name('lockExpiresAt')} < ${attributes.value(now)})`;
  try {
    await client.send(
      new PutCommand({
        TableName: layout.tableName,
        Item: {
          ...item,
          status: InboxItem.status.inProgress,
          lockToken: token,
          lockExpiresAt: now + lockTtlSeconds * 1000,
        },
        ConditionExpression: condition,
        ...attributes.toParams(),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { acquired: { token, key } };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // The document client does not unmarshall error fields.
    const existing = error.Item ? unmarshall(error.Item) : undefined;
    // Our own lock: the Put succeeded, its response was lost, and the SDK's retry found it.
    if (existing?.lockToken === token) return { acquired: { token, key } };
    if (
      existing?.status === InboxItem.status.inProgress &&
      typeof existing.lockExpiresAt === 'number'
    ) {
      return { heldUntil: existing.lockExpiresAt };
    }
    return { completed: true };
  }
}

/** The inbox action of a lock-then-complete transaction: completes the record we hold. */
export function planCompletion(layout: TableLayout, lock: Lock, now: Date): PlannedAction {
  const attributes = new ExpressionAttributes();
  return {
    summary: { kind: INBOX_ACTION, tableName: layout.tableName, key: lock.key },
    item: { ...lock.key },
    transactItem: {
      Update: {
        TableName: layout.tableName,
        Key: lock.key,
        UpdateExpression: `SET ${attributes.name('status')} = ${attributes.value(InboxItem.status.completed)}, ${attributes.name('processedAt')} = ${attributes.value(now.toISOString())} REMOVE ${attributes.name('lockExpiresAt')}, ${attributes.name('lockToken')}`,
        ConditionExpression: `${attributes.name('lockToken')} = ${attributes.value(lock.token)}`,
        ...attributes.toParams(),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
  };
}

/** Deletes our in-progress record so the next delivery does not wait for the lock to expire. */
export async function releaseLock(
  client: DynamoDBDocumentClient,
  layout: TableLayout,
  lock: Lock,
): Promise<void> {
  const attributes = new ExpressionAttributes();
  try {
    await client.send(
      new DeleteCommand({
        TableName: layout.tableName,
        Key: lock.key,
        ConditionExpression: `${attributes.name('lockToken')} = ${attributes.value(lock.token)}`,
        ...attributes.toParams(),
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
