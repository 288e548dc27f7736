import { DeleteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TableLayout } from '../transaction/actions.js';

/**
 * How many times this consumer answered "not yet" to an event, counted in an item of its
 * own next to the inbox record. SQS's receive count cannot tell: it also grows with lost
 * version races, handler failures, lock waits and messages returned unstarted, and is
 * always 1 for an event EventBridge delivers directly.
 */
export const NotYetCount = {
  sortKey: 'NOTYET',
  markerValue: 'not-yet',
} as const;

/** Counts one more "not yet" for the event and resolves the count so far, this one included. */
export async function countNotYet(
  client: DynamoDBDocumentClient,
  layout: TableLayout,
  inboxPartition: string,
  settings: { readonly now: Date; readonly ttlSeconds: number; readonly ttlAttribute: string },
): Promise<number> {
  const { Attributes } = await client.send(
    new UpdateCommand({
      TableName: layout.tableName,
      Key: { [layout.partitionKey]: inboxPartition, [layout.sortKey]: NotYetCount.sortKey },
      UpdateExpression: 'ADD #count :one SET #marker = :marker, #ttl = if_not_exists(#ttl, :ttl)',
      ExpressionAttributeNames: {
        '#count': 'notYet',
        '#marker': '_eventbox',
        '#ttl': settings.ttlAttribute,
      },
      ExpressionAttributeValues: {
        ':one': 1,
        ':marker': NotYetCount.markerValue,
        ':ttl': Math.floor(settings.now.getTime() / 1000) + settings.ttlSeconds,
      },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(Attributes?.notYet ?? 1);
}

/**
 * Forgets the event's "not yet" answers: when it is dead-lettered, so that a redrive gives
 * it a whole budget again, rather than dead-lettering it on its first "not yet" because
 * the letters went back in no order and its predecessor is not applied yet.
 */
export async function forgetNotYet(
  client: DynamoDBDocumentClient,
  layout: TableLayout,
  inboxPartition: string,
): Promise<void> {
  await client.send(
    new DeleteCommand({
      TableName: layout.tableName,
      Key: { [layout.partitionKey]: inboxPartition, [layout.sortKey]: NotYetCount.sortKey },
    }),
  );
}
