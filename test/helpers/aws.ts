import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { clientConfigFor } from '../../lib/emulator/start.js';
import { createStreamTable } from './table.js';

/**
 * SDK client config for an endpoint: the emulator's credentials when the suite started one,
 * the default chain otherwise (an external endpoint or a real account).
 */
export function clientConfig(endpoint: string = inject('eventbox').endpoint) {
  return clientConfigFor(inject('eventbox'), endpoint);
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
export async function createTable(
  endpoint: string,
  prefix = 'eventbox',
  options: Parameters<typeof createStreamTable>[2] = {},
): Promise<TestTable> {
  const client = new DynamoDBClient(clientConfig(endpoint));
  const table = await createStreamTable(client, prefix, options);
  return { ...table, client, document: DynamoDBDocumentClient.from(client) };
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
