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
  // Functions' roles are siblings of their functions: acknowledged on the role.
  const roleOf = (fn: { readonly role?: IConstruct | undefined }) => (fn.role ? [fn.role] : []);
  acknowledge(
    roleOf(stack.box.relayFunction),
    'AwsSolutions-IAM5[Resource::*]',
    'dynamodb:ListStreams, part of reading the table stream, has no resource-level permissions.',
  );
  acknowledge(
    [stack],
    `AwsSolutions-IAM5[Resource::<${logicalId(stack.refund)}.Arn>:*]`,
    "A durable function checkpoints its own executions, whose ARNs extend the function's with a version and an execution id.",
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
      roleOf(stack.fulfilment.dispatcher.function),
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(stack.fraudCheck)}"}]}]}:*]`,
      'The dispatcher reads the executions of the fraud check state machine, whose names it does not know in advance.',
    );
  }
  if (stack.key) {
    acknowledge(
      [stack],
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'On the one key of the stack: DynamoDB lists kms:GenerateDataKey* (its data-key variants) among what writing to a table under a customer-managed key needs.',
    );
  }
  acknowledge(
    [stack.box.deadLetterQueue],
    'AwsSolutions-SQS3',
    'This queue is itself a dead-letter queue.',
  );
  acknowledge(
    [stack.audit],
    'AwsSolutions-SQS3',
    'The audit queue is a demo tap that is drained and counted, never processed; a dead-letter queue would hide nothing.',
  );
}
