import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clientConfigFor } from '../emulator/environment.js';
import { createStreamTable } from '../helpers/table.js';

/** A stream table for benchmarks, which run outside vitest. */
export async function createTableAt(endpoint: string, credentials: Record<string, string>) {
  const client = new DynamoDBClient(clientConfigFor(endpoint, credentials));
  return { ...(await createStreamTable(client, 'bench')), client };
}
