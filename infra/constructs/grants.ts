import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { ItemActions, KeyActions } from '../../lib/shared/aws-calls.js';

/** What Eventbox's code does to items: reads, and the writes TransactWriteItems carries. */
export const ITEM_READ_WRITE = [...ItemActions.read, ...ItemActions.write] as const;

const READS = new Set(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']);

/** `actions` on `key`, when there is one: what using an encrypted resource takes. */
function grantKey(
  grant: iam.Grant,
  key: kms.IKey | undefined,
  grantee: iam.IGrantable,
  actions: readonly string[],
): iam.Grant {
  return key ? grant.combine(key.grant(grantee, ...actions)) : grant;
}

/**
 * Grants these item actions on the table itself, not its indexes: what the code uses and
 * nothing more; with a customer-managed key, the KMS actions DynamoDB needs on the
 * caller's behalf for them. Add `dynamodb:Query` (or an index) for handler code of your
 * own with `table.grant(fn, ...)`.
 */
export function grantItemActions(
  table: dynamodb.ITable,
  grantee: iam.IGrantable,
  actions: readonly string[],
): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: [...actions],
    resourceArns: [table.tableArn],
  });
  const writes = actions.some((a) => !READS.has(a));
  return grantKey(
    grant,
    table.encryptionKey,
    grantee,
    writes ? KeyActions.writeTable : KeyActions.readTable,
  );
}

/**
 * Grants `actions` on the queue, and under a customer-managed key what they need of it:
 * GenerateDataKey and Decrypt to send, Decrypt to receive. Unlike the CDK's
 * `grantSendMessages`, no GetQueueAttributes or GetQueueUrl that the code never calls.
 */
export function grantQueueActions(
  queue: sqs.IQueue,
  grantee: iam.IGrantable,
  actions: readonly string[],
): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: [...actions],
    resourceArns: [queue.queueArn],
  });
  const keyActions = new Set<string>();
  if (actions.includes('sqs:SendMessage'))
    for (const a of KeyActions.sendToQueue) keyActions.add(a);
  if (actions.includes('sqs:ReceiveMessage'))
    for (const a of KeyActions.receiveFromQueue) keyActions.add(a);
  return grantKey(grant, queue.encryptionMasterKey, grantee, [...keyActions]);
}
