import { DeleteCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TableLayout } from '../../transaction/actions.js';

/**
 * How many times this consumer answered "not yet" to an event, and since when, kept in an
 * item of its own next to the inbox record. SQS's receive count cannot tell: it also grows with lost
 * version races, handler failures, lock waits and messages returned unstarted, and is
 * always 1 for an event EventBridge delivers directly.
 */
export const NotYetCount = {
  sortKey: 'NOTYET',
  markerValue: 'not-yet',
} as const;

/** How long an event has been waiting: its "not yet" answers and since when. */
export interface NotYetWait {
  /** Answers so far, this one included. */
  readonly answers: number;
  /** When the first of them was given (since the event was last dead-lettered). */
  readonly since: Date;
}

/** Counts one more "not yet" for the event and resolves how long it has waited. */
export async function countNotYet(
  client: DynamoDBDocumentClient,
  layout: TableLayout,
  inboxPartition: string,
  settings: { readonly now: Date; readonly ttlSeconds: number; readonly ttlAttribute: string },
): Promise<NotYetWait> {
  const { Attributes } = await client.send(
    new UpdateCommand({
      TableName: layout.tableName,
      Key: { [layout.partitionKey]: inboxPartition, [layout.sortKey]: NotYetCount.sortKey },
      UpdateExpression:
        'ADD #count :one SET #marker = :marker, #since = if_not_exists(#since, :now), #ttl = if_not_exists(#ttl, :ttl)',
      ExpressionAttributeNames: {
        '#count': 'notYet',
        '#since': 'waitingSince',
        '#marker': '_eventbox',
        '#ttl': settings.ttlAttribute,
      },
      ExpressionAttributeValues: {
        ':one': 1,
        ':marker': NotYetCount.markerValue,
        ':now': settings.now.toISOString(),
        ':ttl': Math.floor(settings.now.getTime() / 1000) + settings.ttlSeconds,
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  const since = Date.parse(String(Attributes?.waitingSince));
  return {
    answers: Number(Attributes?.notYet ?? 1),
    since: Number.isNaN(since) ? settings.now : new Date(since),
  };
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

/**
 * Why an event's wait is over, or undefined while it may wait on: it has waited
 * `maxWaitSeconds` since its first "not yet", or was answered `maxAttempts` times.
 */
export function notYetBudgetSpent(
  wait: NotYetWait,
  now: Date,
  budget: { readonly maxWaitSeconds: number; readonly maxAttempts?: number | undefined },
): string | undefined {
  const waited = Math.max(0, Math.round((now.getTime() - wait.since.getTime()) / 1000));
  const attempts = `${wait.answers} attempt${wait.answers === 1 ? '' : 's'}`;
  if (budget.maxAttempts !== undefined && wait.answers >= budget.maxAttempts)
    return `still after ${attempts} over ${waited} s: notYet.maxAttempts ${budget.maxAttempts}`;
  if (waited >= budget.maxWaitSeconds)
    return `still after ${attempts} over ${waited} s: notYet.maxWaitSeconds ${budget.maxWaitSeconds}`;
  return undefined;
}
