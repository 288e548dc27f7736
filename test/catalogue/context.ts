import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBox, type EventBoxOptions } from '../../lib/producer/index.js';

/** What the checks of the catalogue share: a real table for what DynamoDB decides. */
export interface CatalogueContext {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  /** The same endpoint, for clients a check builds itself (a job runner that crashes). */
  readonly clientConfig: ConstructorParameters<typeof DynamoDBClient>[0];
}

/** A box whose client cannot reach anything and counts its requests: errors must come first. */
export function offlineBox(options: Partial<EventBoxOptions> = {}) {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:9',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  const sent = { count: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      sent.count++;
      return next(args);
    },
    { step: 'initialize', name: 'countSent' },
  );
  return {
    box: new EventBox({
      tableName: 'orders',
      source: 'orders',
      client,
      ...options,
    } as EventBoxOptions),
    sent,
  };
}

/** EventBridge and SQS clients whose calls are recorded; PutEvents answers with `decide`. */
export function recordingClients(
  decide: (entry: PutEventsRequestEntry) => {
    EventId?: string;
    ErrorCode?: string;
    ErrorMessage?: string;
  } = () => ({ EventId: 'e' }),
) {
  const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
  const sqs = new SQSClient({ region: 'us-east-1' });
  const eb = mockClient(eventBridge);
  const sq = mockClient(sqs);
  eb.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
    const results = input.Entries.map(decide);
    return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
  });
  sq.on(SendMessageBatchCommand).callsFake(async (input: { Entries: Array<{ Id: string }> }) => ({
    Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: '' })),
  }));
  sq.on(SendMessageCommand).resolves({ MessageId: 'dl' });
  const deadLetters = () =>
    [
      ...sq
        .commandCalls(SendMessageBatchCommand)
        .flatMap((c) => c.args[0].input.Entries ?? [])
        .map((e) => e.MessageBody ?? ''),
      ...sq.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageBody ?? ''),
    ].map((body) => JSON.parse(body) as { reason: string });
  const published = () =>
    eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
  return {
    eventBridge,
    sqs,
    deadLetters,
    published,
    restore: () => {
      eb.restore();
      sq.restore();
    },
  };
}
