import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';

/** What Eventbox's code does to items: reads, and the writes TransactWriteItems carries. */
export const ITEM_READ_WRITE = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
] as const;

const READS = new Set(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']);

/**
 * Grants these item actions on the table itself, not its indexes: what the code uses and
 * nothing more; with a customer-managed key, its use for them (decrypt to read, encrypt
 * too to write). Add `dynamodb:Query` (or an index) for handler code of your own with
 * `table.grant(fn, ...)`.
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
  const key = table.encryptionKey;
  if (!key) return grant;
  const writes = actions.some((a) => !READS.has(a));
  return grant.combine(writes ? key.grantEncryptDecrypt(grantee) : key.grantDecrypt(grantee));
}
