import { type Duration, Names } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { KeyActions } from '../../lib/shared/aws-calls.js';
import { grantQueueActions } from './grants.js';

export interface QueueMappingProps {
  readonly batchSize: number;
  readonly maxBatchingWindow?: Duration;
  readonly maxConcurrency?: number;
}

/**
 * The function's SQS event source mapping, with `ReportBatchItemFailures`, its role granted
 * exactly `actions` on the queue: what Lambda's poller and the function's code call. The
 * CDK's `SqsEventSource` grants GetQueueUrl too, which neither calls.
 */
export function queueMapping(
  fn: lambda.IFunction,
  queue: sqs.IQueue,
  props: QueueMappingProps,
  actions: readonly string[],
): lambda.EventSourceMapping {
  grantQueueActions(queue, fn, actions);
  // The id the CDK's SqsEventSource gives it, so that a stack deployed before keeps its mapping.
  return fn.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
    eventSourceArn: queue.queueArn,
    batchSize: props.batchSize,
    ...(props.maxBatchingWindow ? { maxBatchingWindow: props.maxBatchingWindow } : {}),
    ...(props.maxConcurrency ? { maxConcurrency: props.maxConcurrency } : {}),
    reportBatchItemFailures: true,
  });
}

/**
 * A stream mapping's on-failure destination whose function is granted `sqs:SendMessage`
 * (and under a key what sending needs) and nothing else: the CDK's `SqsDlq` adds
 * GetQueueAttributes and GetQueueUrl.
 */
export class SendOnlyQueueDestination implements lambda.IEventSourceDlq {
  constructor(private readonly queue: sqs.IQueue) {}

  bind(_target: lambda.IEventSourceMapping, fn: lambda.IFunction): lambda.DlqDestinationConfig {
    grantQueueActions(this.queue, fn, ['sqs:SendMessage']);
    return { destination: this.queue.queueArn };
  }
}

/**
 * The function's mapping of the table's stream, its role granted exactly `actions` on the
 * stream (`dynamodb:ListStreams`, which has no resource-level permission, on "*") and under a
 * key Decrypt: the CDK's `DynamoEventSource` grants DescribeKey too.
 */
export function streamMapping(
  fn: lambda.IFunction,
  table: dynamodb.ITable,
  options: Omit<lambda.EventSourceMappingOptions, 'eventSourceArn'>,
  actions: readonly string[],
): lambda.EventSourceMapping {
  const streamArn = table.tableStreamArn as string;
  const listStreams = actions.filter((a) => a === 'dynamodb:ListStreams');
  const onStream = actions.filter((a) => a !== 'dynamodb:ListStreams');
  // ListStreams first, on "*": the order the CDK's own grant writes them in.
  const grants = [
    ...(listStreams.length > 0
      ? [iam.Grant.addToPrincipal({ grantee: fn, actions: listStreams, resourceArns: ['*'] })]
      : []),
    iam.Grant.addToPrincipal({ grantee: fn, actions: onStream, resourceArns: [streamArn] }),
  ];
  table.encryptionKey?.grant(fn, ...KeyActions.readStream);
  // The id the CDK's DynamoEventSource gives it, so that a stack deployed before keeps its mapping.
  const mapping = fn.addEventSourceMapping(
    `DynamoDBEventSource:${Names.nodeUniqueId(table.node)}`,
    { ...options, eventSourceArn: streamArn },
  );
  for (const grant of grants) mapping.node.addDependency(grant);
  return mapping;
}
