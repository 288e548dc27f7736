import { Annotations, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { InvalidPropsError } from './validation.js';

/**
 * The AWS services that use Eventbox's queues, topics and keys themselves, not through a
 * role. Every statement that names one carries conditions that limit it to this stack's
 * rule, this account's alarms or this account's log groups: a service principal without
 * them is a confused deputy any AWS account can steer.
 */
export const ServicePrincipals = {
  eventbridge: 'events.amazonaws.com',
  cloudwatch: 'cloudwatch.amazonaws.com',
} as const;

/** What each service needs of a customer-managed key, as its documentation lists it. */
const KEY_USE = {
  /** Delivering to an encrypted queue: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sqs-permissions */
  eventbridge: ['kms:GenerateDataKey', 'kms:Decrypt'],
  /** Publishing to an encrypted topic: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services */
  cloudwatch: ['kms:GenerateDataKey*', 'kms:Decrypt'],
  /** Encrypting a log group: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html */
  logs: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
} as const;

export type KeyUser = keyof typeof KEY_USE;

function principalOf(scope: Construct, service: KeyUser): iam.ServicePrincipal {
  if (service === 'logs')
    return new iam.ServicePrincipal(`logs.${Stack.of(scope).region}.amazonaws.com`);
  return new iam.ServicePrincipal(ServicePrincipals[service]);
}

/**
 * Lets `service` use the key, under `conditions`: a statement in the key policy. A key
 * imported from elsewhere cannot take one here; the app is told what its policy needs.
 */
export function serviceMayUseKey(
  scope: Construct,
  key: kms.IKey,
  service: KeyUser,
  conditions: Record<string, unknown>,
): void {
  const actions = KEY_USE[service];
  const principal = principalOf(scope, service);
  const { statementAdded } = key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [principal],
      actions: [...actions],
      resources: ['*'],
      conditions,
    }),
    true,
  );
  if (!statementAdded) {
    const what = {
      eventbridge: 'events will not reach the queue',
      cloudwatch: 'alarms will not notify the topic',
      logs: 'the log group cannot be created',
    }[service];
    Annotations.of(scope).addWarningV2(
      `eventbox:importedKeyPolicy:${service}`,
      `The encryption key is imported, so its key policy cannot be changed here: it must allow ${principal.service} ${actions.join(' and ')} (under ${JSON.stringify(conditions)}), or ${what}`,
    );
  }
}

/**
 * The rule's ARN, built from its name and bus where it has a name, so that a key policy
 * can name it: the rule's own `Arn` attribute would make the key depend on the rule, the
 * rule on its target queue, and the queue on the key.
 */
export function ruleArnOf(rule: events.IRule): { arn: string; named: boolean } {
  const resource = rule.node.defaultChild;
  if (!(resource instanceof events.CfnRule) || !resource.name || Token.isUnresolved(resource.name))
    return { arn: rule.ruleArn, named: false };
  const bus = resource.eventBusName;
  const onDefaultBus = bus === undefined || bus === 'default';
  return {
    arn: Stack.of(rule).formatArn({
      service: 'events',
      resource: 'rule',
      resourceName: onDefaultBus ? resource.name : `${bus}/${resource.name}`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
    named: true,
  };
}

/** Conditions that limit an EventBridge statement to one rule of this account. */
export function fromRule(rule: events.IRule, ruleArn: string): Record<string, unknown> {
  return {
    ArnEquals: { 'aws:SourceArn': ruleArn },
    StringEquals: { 'aws:SourceAccount': Stack.of(rule).account },
  };
}

/**
 * Lets `rule` (and no other rule, of this account or another) send to `queue`: a
 * queue-policy statement, and under a customer-managed key a key-policy statement, both
 * with the rule's ARN and account as conditions.
 */
export function ruleMaySend(rule: events.IRule, queue: sqs.IQueue): void {
  // The queue policy is a resource of its own: it can name the rule's Arn attribute.
  const conditions = fromRule(rule, rule.ruleArn);
  const { statementAdded } = queue.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(ServicePrincipals.eventbridge)],
      actions: ['sqs:SendMessage'],
      resources: [queue.queueArn],
      conditions,
    }),
  );
  if (!statementAdded) {
    Annotations.of(rule).addWarningV2(
      'eventbox:importedQueuePolicy',
      `The queue ${queue.node.path} is imported, so its policy cannot be changed here: it must allow ${ServicePrincipals.eventbridge} sqs:SendMessage under ${JSON.stringify(conditions)}`,
    );
  }
  const key = queue.encryptionMasterKey;
  if (!key) return;
  const { arn, named } = ruleArnOf(rule);
  if (!named) {
    throw new InvalidPropsError(
      `The rule ${rule.node.path} targets the encrypted queue ${queue.node.path} but has no ruleName: the key policy names the rule's ARN, which without a name depends on the queue through the key; give the rule a ruleName`,
    );
  }
  // SQS documents aws:SourceArn, not aws:SourceAccount, as reaching the key policy for
  // CloudWatch Events (EventBridge) delivering to an SSE-KMS queue; the rule's ARN names the
  // account. https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
  serviceMayUseKey(rule, key, 'eventbridge', { ArnEquals: { 'aws:SourceArn': arn } });
}
