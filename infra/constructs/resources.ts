import { Annotations, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { OutboxItem } from '../../lib/envelope/outbox-item.js';
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
export function addOutboxIndex(
  table: dynamodb.Table | dynamodb.TableV2,
  capacity: { readonly readCapacity?: number; readonly writeCapacity?: number } = {},
): void {
  const index = {
    indexName: OutboxItem.byTimeIndex,
    partitionKey: { name: OutboxItem.bucketAttribute, type: dynamodb.AttributeType.STRING },
    sortKey: { name: OutboxItem.timeAttribute, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: ['eventId', 'eventType', 'aggregateType', 'aggregateId', 'tenantId'],
  };
  // A TableV2 index inherits the table's capacity and autoscaling by itself.
  if (table instanceof dynamodb.TableV2) table.addGlobalSecondaryIndex(index);
  else table.addGlobalSecondaryIndex({ ...index, ...capacity });
}

/**
 * Gives a relayed table defined in this app the by-time index unless it has it, so that
 * `outbox replay` covers every table the relay reads; an imported table cannot be changed
 * here, and a warning says what replay needs of it.
 */
export function ensureOutboxIndex(table: dynamodb.ITable, what: string): void {
  if (table instanceof dynamodb.Table) {
    if (!hasIndex(table)) addOutboxIndex(table, provisionedCapacityOf(table, what));
  } else if (table instanceof dynamodb.TableV2) {
    try {
      addOutboxIndex(table);
    } catch (error) {
      // TableV2 does not list its indexes; adding one it has is refused as a duplicate.
      if (!/duplicate/i.test(String((error as Error).message))) throw error;
    }
  } else {
    Annotations.of(table).addWarningV2(
      'eventbox:replay-index',
      `${what} (${table.node.path}) is imported, so its ${OutboxItem.byTimeIndex} index cannot be added here: outbox replay refuses a table without it. Give it a global secondary index ${OutboxItem.byTimeIndex} (partition key ${OutboxItem.bucketAttribute}, sort key ${OutboxItem.timeAttribute}, both strings). Its stream must have new images (NEW_IMAGE or NEW_AND_OLD_IMAGES), which cannot be checked here either: eventbox status says when it does not`,
    );
  }
}

/**
 * A provisioned table's index takes the table's own capacity, not CDK's 5 units: every
 * outbox write writes the index too, and an index short of capacity throttles the table.
 * Its autoscaling is not copied: a warning says so.
 */
function provisionedCapacityOf(table: dynamodb.Table, what: string) {
  const cfn = table.node.defaultChild as dynamodb.CfnTable;
  if (cfn.billingMode === dynamodb.BillingMode.PAY_PER_REQUEST) return {};
  const base = cfn.provisionedThroughput as dynamodb.CfnTable.ProvisionedThroughputProperty;
  Annotations.of(table).addWarningV2(
    'eventbox:replay-index-capacity',
    `${what} (${table.node.path}) is provisioned: its ${OutboxItem.byTimeIndex} index gets the table's capacity (${base?.readCapacityUnits ?? '?'} read, ${base?.writeCapacityUnits ?? '?'} write units), not its autoscaling; scale the index as the table (table.autoScaleGlobalSecondaryIndexWriteCapacity)`,
  );
  return {
    ...(typeof base?.readCapacityUnits === 'number'
      ? { readCapacity: base.readCapacityUnits }
      : {}),
    ...(typeof base?.writeCapacityUnits === 'number'
      ? { writeCapacity: base.writeCapacityUnits }
      : {}),
  };
}

function hasIndex(table: dynamodb.Table): boolean {
  try {
    table.schemaV2(OutboxItem.byTimeIndex);
    return true;
  } catch {
    return false;
  }
}
