/**
 * The IAM actions behind the AWS calls Eventbox's runtimes make, per resource. Each
 * runtime keeps its table beside its code (`relay/calls.ts`, `consumer/calls.ts`,
 * `jobs/calls.ts`); the constructs grant from those tables and nothing else, and a test
 * reads the runtimes' code for the calls it makes.
 */

/** What a transaction (TransactWriteItems) and the single-item calls do to items. */
export const ItemActions = {
  read: ['dynamodb:GetItem'],
  /** TransactWriteItems is authorized action by action: Put, Update, Delete, ConditionCheck. */
  write: [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  ],
} as const;

/**
 * KMS actions a principal needs on a customer-managed key, per use, as the services
 * document them:
 * - SQS: "kms:GenerateDataKey and kms:Decrypt" to send, "kms:Decrypt" to receive
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
 * - DynamoDB: the principal accessing an encrypted table is the one DynamoDB calls
 *   kms:Decrypt for (the table key); kms:Encrypt and kms:GenerateDataKey* are among what it
 *   needs of the key to write, while kms:ReEncrypt*, kms:DescribeKey and kms:CreateGrant
 *   are the table creator's (CloudFormation's), not the caller's
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html).
 * - DynamoDB Streams: a stream is encrypted with the table key; reading it decrypts
 *   (kms:Decrypt), which is all the event source mapping's role is given.
 */
export const KeyActions = {
  sendToQueue: ['kms:GenerateDataKey', 'kms:Decrypt'],
  receiveFromQueue: ['kms:Decrypt'],
  readTable: ['kms:Decrypt'],
  writeTable: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*'],
  readStream: ['kms:Decrypt'],
} as const;

/** What every Eventbox function does with its own log group. */
export const LogActions = ['logs:CreateLogStream', 'logs:PutLogEvents'] as const;
