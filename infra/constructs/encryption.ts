import { Annotations, ArnFormat, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ServicePrincipals, serviceMayUseKey } from './service-access.js';

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

/**
 * The alarm topic: TLS only; encrypted with `key` if there is one, which this account's
 * alarms may then use. CloudWatch alarms cannot publish to a topic under SNS's own AWS
 * managed key (its key policy cannot be given to CloudWatch), so without a key the topic
 * stays unencrypted, and the app is told how to change that.
 */
export function alarmTopic(scope: Construct, id: string, key: kms.IKey | undefined): sns.Topic {
  const topic = new sns.Topic(scope, id, { enforceSSL: true, ...(key ? { masterKey: key } : {}) });
  const account = Stack.of(scope).account;
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'EventboxAlarmsPublish',
      principals: [new iam.ServicePrincipal(ServicePrincipals.cloudwatch)],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: alarmsOfThisAccount(scope),
    }),
  );
  if (key) serviceMayUseKey(scope, key, 'cloudwatch', alarmsOfThisAccount(scope));
  else {
    Annotations.of(scope).addWarningV2(
      'eventbox:alarmTopicUnencrypted',
      `The alarm topic is not encrypted: CloudWatch alarms can publish only to a topic under a customer-managed key (not SNS's AWS managed key). Pass encryptionKey to encrypt it, or existingAlarmTopic for a topic of your own (account ${account})`,
    );
  }
  return topic;
}

/** Conditions that limit a CloudWatch statement to this account's alarms in this region. */
function alarmsOfThisAccount(scope: Construct): Record<string, unknown> {
  const stack = Stack.of(scope);
  return {
    ArnLike: {
      'aws:SourceArn': stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: '*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    },
    StringEquals: { 'aws:SourceAccount': stack.account },
  };
}

/**
 * A function's log group: a month of retention, removed with the stack, encrypted with
 * `key` when there is one (whose policy then lets CloudWatch Logs use it for this
 * account's log groups in this region).
 */
export function functionLogGroup(
  scope: Construct,
  id: string,
  key: kms.IKey | undefined,
  props: Partial<logs.LogGroupProps> = {},
): logs.LogGroup {
  if (key) {
    const stack = Stack.of(scope);
    serviceMayUseKey(scope, key, 'logs', {
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    });
  }
  return new logs.LogGroup(scope, id, {
    retention: logs.RetentionDays.ONE_MONTH,
    ...props,
    ...(key ? { encryptionKey: key } : {}),
  });
}
