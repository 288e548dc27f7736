import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  UpdateItemCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * The table Powertools' idempotency documentation deploys: a string partition key `id`, no
 * sort key (its TTL is left off: the bench's records outlive it anyway).
 */
export async function createIdempotencyTable(client: DynamoDBClient, name: string) {
  const tableName = `${name}-${Date.now().toString(36)}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  return {
    tableName,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
}

/**
 * The field's standard way to apply SQS messages once, as Powertools documents it:
 * `processPartialResponse` with a `BatchProcessor` (records in parallel) around a record
 * handler made idempotent on the event's id (not the SQS message's, which a duplicate
 * delivery does not share), stored in DynamoDB. The business write is the
 * same atomic add Eventbox's handler makes. It is at-least-once for the write: a crash
 * between the add and the "completed" record applies the event again once the in-progress
 * record expires.
 */
export function powertoolsHandler(options: {
  readonly client: DynamoDBClient;
  readonly idempotencyTable: string;
  readonly businessTable: string;
  readonly userKey: (userId: string) => string;
}) {
  const { client } = options;
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'powertools_json(body).detail.id',
    // A key that resolves to nothing would silently turn idempotency off.
    throwOnNoIdempotencyKey: true,
  });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.idempotencyTable,
    awsSdkV3Client: client,
  });
  const processor = new BatchProcessor(EventType.SQS);
  const addToScore = async (record: SQSRecord) => {
    const event = JSON.parse(record.body) as { detail: { payload: { userId: string } } };
    const pk = options.userKey(event.detail.payload.userId);
    await client.send(
      new UpdateItemCommand({
        TableName: options.businessTable,
        Key: { pk: { S: pk }, sk: { S: 'USER' } },
        UpdateExpression: 'ADD score :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
  };
  const recordHandler = makeIdempotent(addToScore, { persistenceStore, config });
  return async (event: SQSEvent, context: Context) => {
    config.registerLambdaContext(context);
    return processPartialResponse(event, recordHandler, processor, { context });
  };
}
