import { LogActions } from '../shared/aws-calls.js';

/**
 * The IAM actions the relay function calls, per resource: its role is granted these and
 * no more (a test reads the relay's code for the calls it makes).
 */
export const RelayCalls = {
  /**
   * Its event source mapping reads each table's stream with the function's role;
   * ListStreams has no resource-level permission.
   */
  stream: [
    'dynamodb:DescribeStream',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:ListStreams',
  ],
  bus: ['events:PutEvents'],
  /**
   * Poison records (SendMessage, SendMessageBatch: both authorized as sqs:SendMessage), and
   * the mapping's on-failure records, sent with the function's role.
   */
  deadLetterQueue: ['sqs:SendMessage'],
  logs: LogActions,
} as const;
