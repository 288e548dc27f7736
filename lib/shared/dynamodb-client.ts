import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Either a ready client or the config to build one; never both. */
export type DynamoDbClientOptions =
  | { readonly client?: DynamoDBClient | DynamoDBDocumentClient; readonly clientConfig?: never }
  | { readonly clientConfig?: DynamoDBClientConfig; readonly client?: never };

/**
 * A document client from a client, a config, or the defaults (which read `AWS_ENDPOINT_URL`
 * and the usual credential chain). Undefined attribute values are dropped, not rejected.
 */
export function documentClient(options: DynamoDbClientOptions): DynamoDBDocumentClient {
  if (options.client instanceof DynamoDBDocumentClient) return options.client;
  const base = options.client ?? new DynamoDBClient(options.clientConfig ?? {});
  return DynamoDBDocumentClient.from(base, {
    marshallOptions: { removeUndefinedValues: true },
    unmarshallOptions: { wrapNumbers: false },
  });
}
