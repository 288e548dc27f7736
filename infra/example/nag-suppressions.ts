import { type CfnElement, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ExampleStack } from './example-stack.js';

/**
 * The cdk-nag (AwsSolutions) findings the example app accepts, each with its reason.
 * Everything else must pass.
 */
export function acknowledgeAcceptedFindings(stack: ExampleStack): void {
  const logicalId = (scope: IConstruct) =>
    stack.getLogicalId(scope.node.defaultChild as CfnElement);
  const acknowledge = (scopes: readonly IConstruct[], id: string, reason: string) => {
    for (const scope of scopes) Validations.of(scope).acknowledge({ id, reason });
  };
  const functions = [
    stack.box.relayFunction,
    stack.orders,
    stack.userScore.function,
    stack.rewards.function,
    stack.fulfilment.consumer.function,
    ...(stack.fulfilment.dispatcher ? [stack.fulfilment.dispatcher.function] : []),
    stack.fraudFunction,
    stack.refund,
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
    [stack.refund],
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicDurableExecutionRolePolicy]',
    'A durable function needs its checkpoint permissions; this managed policy grants only those, on its own executions.',
  );
  acknowledge(
    [stack.fraudCheck],
    `AwsSolutions-IAM5[Resource::<${logicalId(stack.fraudFunction)}.Arn>:*]`,
    'The state machine invokes its one task function, any version or alias of it (CDK grants it this way).',
  );
  acknowledge(
    [stack.fraudCheck],
    'AwsSolutions-IAM5[Resource::*]',
    'X-Ray tracing and CloudWatch Logs log delivery have no resource-level permissions.',
  );
  if (stack.fulfilment.dispatcher) {
    acknowledge(
      [stack.fulfilment.dispatcher.function],
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(stack.fraudCheck)}"}]}]}:*]`,
      'The dispatcher reads the executions of the fraud check state machine, whose names it does not know in advance.',
    );
  }
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
      ...(stack.fulfilment.dispatcher ? [stack.fulfilment.dispatcher.deadLetterQueue] : []),
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
