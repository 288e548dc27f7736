import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';

/**
 * SDK client config for an endpoint: the emulator's credentials when the suite started one,
 * the default chain otherwise (an external endpoint or a real account).
 */
export function clientConfig(endpoint: string = inject('awsEndpoint')) {
  const env = inject('awsEnv');
  return {
    endpoint,
    region: env.AWS_REGION ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(env.AWS_ACCESS_KEY_ID
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test',
          },
        }
      : {}),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export interface TestTable {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly document: DynamoDBDocumentClient;
  readonly streamArn: string | undefined;
  drop(): Promise<void>;
}

/** A pay-per-request table with string keys pk/sk and a NEW_AND_OLD_IMAGES stream. */
export async function createTable(endpoint: string, prefix = 'eventbox'): Promise<TestTable> {
  const client = new DynamoDBClient(clientConfig(endpoint));
  const tableName = uniqueName(prefix);
  const created = await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  return {
    tableName,
    client,
    document: DynamoDBDocumentClient.from(client),
    streamArn: created.TableDescription?.LatestStreamArn,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
    },
  };
}

/** Counts the requests a client sends, to prove that something was rejected before sending. */
export function countRequests(client: DynamoDBClient | DynamoDBDocumentClient): {
  readonly count: number;
} {
  const counter = { count: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      counter.count++;
      return next(args);
    },
    { step: 'initialize', name: `countRequests-${randomUUID()}` },
  );
  return counter;
}
