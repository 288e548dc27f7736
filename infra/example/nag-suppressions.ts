import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ExampleStack } from './example-stack.js';

/**
 * The cdk-nag (AwsSolutions) findings the example app accepts, each with its reason.
 * Everything else must pass.
 */
export function acknowledgeAcceptedFindings(stack: ExampleStack): void {
  const acknowledge = (scopes: readonly IConstruct[], id: string, reason: string) => {
    for (const scope of scopes) Validations.of(scope).acknowledge({ id, reason });
  };
  const functions = [
    stack.box.relayFunction,
    stack.orders,
    stack.userScore.function,
    stack.rewards.function,
    stack.fulfilment.consumer.function,
  ];
  acknowledge(
    functions,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'AWSLambdaBasicExecutionRole only lets each function write its own CloudWatch log streams.',
  );
  acknowledge(
    [stack.box.relayFunction],
    'AwsSolutions-IAM5[Resource::*]',
    'dynamodb:ListStreams, part of reading the table stream, has no resource-level permissions.',
  );
  acknowledge(
    [stack],
    'AwsSolutions-SNS2',
    "The alarm topic carries alarm state changes only; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer key is the operator's choice.",
  );
  acknowledge(
    [
      stack.box.deadLetterQueue,
      stack.userScore.deadLetterQueue,
      stack.rewards.deadLetterQueue,
      stack.fulfilment.consumer.deadLetterQueue,
    ],
    'AwsSolutions-SQS3',
    'This queue is itself a dead-letter queue.',
  );
  acknowledge(
    [stack.audit],
    'AwsSolutions-SQS3',
    'The audit queue is a demo tap that is drained and counted, never processed; a dead-letter queue would hide nothing.',
  );
}
