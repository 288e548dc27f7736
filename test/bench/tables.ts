import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EmulatorClientConfig } from '../../lib/emulator/start.js';
import { createStreamTable } from '../helpers/table.js';

/** A stream table for benchmarks, which run outside vitest. */
export async function createTableAt(config: EmulatorClientConfig) {
  const client = new DynamoDBClient(config);
  return { ...(await createStreamTable(client, 'bench')), client };
}
