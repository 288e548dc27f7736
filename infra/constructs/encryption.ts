import { Annotations, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** The AWS services that write to Eventbox's queues and topics themselves, not through a role. */
const SERVICES = {
  /**
   * Rules deliver to the consumer's queue, and their failures to its dead-letter queue.
   * The CDK's SQS target adds this statement to a key of this app by itself.
   */
  eventbridge: {
    principal: 'events.amazonaws.com',
    actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
  },
  /** Alarms notify the alarm topic. */
  cloudwatch: {
    principal: 'cloudwatch.amazonaws.com',
    actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
  },
} as const;

export type KeyUser = keyof typeof SERVICES;

/**
 * Lets `service` use the key for this account's resources: a statement in the key policy.
 * A key imported from elsewhere cannot take one here; the app is told what its policy needs.
 */
export function allowServiceToUseKey(scope: Construct, key: kms.IKey, service: KeyUser): void {
  const { principal, actions } = SERVICES[service];
  if (service === 'eventbridge' && key instanceof kms.Key) return;
  const { statementAdded } = key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: `Eventbox${service[0]?.toUpperCase()}${service.slice(1)}`,
      principals: [new iam.ServicePrincipal(principal)],
      actions: [...actions],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    true,
  );
  if (!statementAdded) {
    Annotations.of(scope).addWarningV2(
      'eventbox:importedKeyPolicy',
      `The encryption key is imported, so its key policy cannot be changed here: it must allow ${principal} ${actions.join(' and ')}, or ${service === 'eventbridge' ? 'events will not reach the queue' : 'alarms will not notify the topic'}`,
    );
  }
}

/** Table props that encrypt with `key`, or none (AWS owned key) without one. */
export function tableEncryption(key: kms.IKey | undefined): Partial<dynamodb.TableProps> {
  return key ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: key } : {};
}

/** Queue props that encrypt with `key`, or with SQS's own key without one. */
export function queueEncryption(key: kms.IKey | undefined): Partial<sqs.QueueProps> {
  return key
    ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
    : { encryption: sqs.QueueEncryption.SQS_MANAGED };
}

/** The alarm topic: TLS only, encrypted with `key` if there is one, which alarms may then use. */
export function alarmTopic(scope: Construct, id: string, key: kms.IKey | undefined): sns.Topic {
  if (key) allowServiceToUseKey(scope, key, 'cloudwatch');
  return new sns.Topic(scope, id, { enforceSSL: true, ...(key ? { masterKey: key } : {}) });
}
