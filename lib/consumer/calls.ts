import { ItemActions, LogActions } from '../shared/aws-calls.js';

/**
 * The IAM actions an inbox consumer calls, per resource: the EventBoxConsumer construct
 * grants these and no more (a test reads the consumer's code for the calls it makes).
 * Handler code of your own that queries, say, is granted by you.
 */
export const ConsumerCalls = {
  /** Inbox records, locks, "not yet" counters (one BatchGetItem per batch), the handler's transaction. */
  table: [...ItemActions.read, 'dynamodb:BatchGetItem', ...ItemActions.write],
  /**
   * The SQS event source mapping receives, deletes and reads the queue's attributes with
   * the function's role; the code changes visibility for retries, and sends a message that
   * may still wait on its last delivery to the queue again. The queue URL comes from the
   * environment, so no GetQueueUrl.
   */
  queue: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:ChangeMessageVisibility',
    'sqs:SendMessage',
  ],
  /** Messages dead-lettered with their reason. */
  deadLetterQueue: ['sqs:SendMessage'],
  logs: LogActions,
} as const;
