import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/**
 * A pay-per-request table with string keys (pk/sk unless `keys` names others) and a
 * NEW_AND_OLD_IMAGES stream; with `outboxIndex`, also the sparse outbox-by-time index the
 * EventBox construct creates.
 */
export async function createStreamTable(
  client: DynamoDBClient,
  prefix: string,
  options: {
    readonly outboxIndex?: boolean;
    readonly keys?: { readonly partitionKey: string; readonly sortKey: string };
  } = {},
) {
  const { partitionKey = 'pk', sortKey = 'sk' } = options.keys ?? {};
  const tableName = `${prefix}-${randomUUID().slice(0, 8)}`;
  const created = await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: partitionKey, AttributeType: 'S' },
        { AttributeName: sortKey, AttributeType: 'S' },
        ...(options.outboxIndex
          ? [
              { AttributeName: 'outboxBucket', AttributeType: 'S' as const },
              { AttributeName: 'outboxTime', AttributeType: 'S' as const },
            ]
          : []),
      ],
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      ...(options.outboxIndex
        ? {
            GlobalSecondaryIndexes: [
              {
                IndexName: 'outboxByTime',
                KeySchema: [
                  { AttributeName: 'outboxBucket', KeyType: 'HASH' as const },
                  { AttributeName: 'outboxTime', KeyType: 'RANGE' as const },
                ],
                Projection: {
                  ProjectionType: 'INCLUDE' as const,
                  NonKeyAttributes: [
                    'eventId',
                    'eventType',
                    'aggregateType',
                    'aggregateId',
                    'tenantId',
                  ],
                },
              },
            ],
          }
        : {}),
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  return {
    tableName,
    streamArn: created.TableDescription?.LatestStreamArn,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    },
  };
}

/** A jobs table as the JobRunner construct makes it: pk/sk, a stream, and the byState index. */
export async function createJobsTable(client: DynamoDBClient) {
  const tableName = `jobs-${randomUUID().slice(0, 8)}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'jobState', AttributeType: 'S' },
        { AttributeName: 'jobCreatedAt', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byState',
          KeySchema: [
            { AttributeName: 'jobState', KeyType: 'HASH' },
            { AttributeName: 'jobCreatedAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['jobId', 'name'] },
        },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  return {
    tableName,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    },
  };
}
