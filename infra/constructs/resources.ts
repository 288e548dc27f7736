import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { OutboxItem } from '../../lib/shared/outbox-item.js';
import { queueEncryption } from './encryption.js';

/**
 * An Eventbox table: string keys `pk`/`sk`, pay-per-request, TTL on `ttl`, point-in-time
 * recovery, kept when the stack is deleted; `overrides` win.
 */
export function eventboxTable(
  scope: Construct,
  id: string,
  overrides: Partial<dynamodb.TableProps> = {},
): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: 'ttl',
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.RETAIN,
    ...overrides,
  });
}

/** A dead-letter queue: encrypted (with `key` if given), TLS only, messages kept 14 days. */
export function deadLetterQueue(scope: Construct, id: string, key?: kms.IKey): sqs.Queue {
  return new sqs.Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    ...queueEncryption(key),
    enforceSSL: true,
  });
}

/**
 * The sparse index of outbox items by time, which `npx eventbox outbox replay` reads
 * instead of scanning the table: keys only, plus what its filters need. Only outbox items
 * carry its keys, so entity writes never touch it.
 */
export function addOutboxIndex(table: dynamodb.Table): void {
  table.addGlobalSecondaryIndex({
    indexName: OutboxItem.byTimeIndex,
    partitionKey: { name: OutboxItem.bucketAttribute, type: dynamodb.AttributeType.STRING },
    sortKey: { name: OutboxItem.timeAttribute, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: ['eventId', 'eventType', 'aggregateType', 'aggregateId', 'tenantId'],
  });
}
