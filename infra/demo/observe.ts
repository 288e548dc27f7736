import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/** Receives and deletes every message of a queue until it stays empty; returns the bodies. */
export async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    if (Messages.length === 0) return bodies;
    bodies.push(...Messages.map((m) => m.Body ?? ''));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
      }),
    );
  }
}

/**
 * Reads every message of a queue without consuming it: receives them all (hidden for a
 * moment, so that each receive returns new ones), then makes them visible again.
 */
export async function peekQueue(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const seen = new Map<string, { body: string; receiptHandle: string }>();
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        WaitTimeSeconds: 0,
      }),
    );
    const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const m of fresh)
      seen.set(m.MessageId ?? '', { body: m.Body ?? '', receiptHandle: m.ReceiptHandle ?? '' });
  }
  const handles = [...seen.values()].map((m) => m.receiptHandle);
  for (let i = 0; i < handles.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: handles
          .slice(i, i + 10)
          .map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
  return [...seen.values()].map((m) => m.body);
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** The consumer's inbox: when each event id was applied. */
export async function inboxRecords(
  ddb: DynamoDBClient,
  tableName: string,
  consumer: string,
): Promise<Map<string, string>> {
  const applied = new Map<string, string>();
  for await (const page of paginateScan(
    { client: ddb },
    {
      TableName: tableName,
      FilterExpression: 'begins_with(pk, :prefix)',
      ExpressionAttributeValues: { ':prefix': { S: `INBOX#${consumer}#` } },
      ConsistentRead: true,
    },
  )) {
    for (const raw of page.Items ?? []) {
      const item = unmarshall(raw);
      applied.set(item.eventId as string, item.processedAt as string);
    }
  }
  return applied;
}

/** Every item of a table whose partition key starts with one of the prefixes. */
export async function itemsWithPrefix(
  ddb: DynamoDBClient,
  tableName: string,
  prefix: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for await (const page of paginateScan(
    { client: ddb },
    {
      TableName: tableName,
      FilterExpression: 'begins_with(pk, :prefix)',
      ExpressionAttributeValues: { ':prefix': { S: prefix } },
      ConsistentRead: true,
    },
  )) {
    items.push(...(page.Items ?? []).map((i) => unmarshall(i)));
  }
  return items;
}

/** The JSON log lines (Powertools Logger) a function wrote since `since`. */
export async function jsonLogLines(
  lambda: LambdaClient,
  logs: CloudWatchLogsClient,
  functionName: string,
  since: number,
): Promise<Array<Record<string, unknown>>> {
  const config = await lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: functionName }),
  );
  const logGroupName = config.LoggingConfig?.LogGroup ?? `/aws/lambda/${functionName}`;
  const lines: Array<Record<string, unknown>> = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({ logGroupName, startTime: since, nextToken }),
    );
    for (const event of page.events ?? []) {
      const start = event.message?.indexOf('{') ?? -1;
      if (start < 0 || !event.message) continue;
      try {
        lines.push(JSON.parse(event.message.slice(start)) as Record<string, unknown>);
      } catch {
        // A plain text line: not the logger's.
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return lines;
}

/** What the inbox's log lines say about some events: how often each was handled, and so on. */
export interface ConsumerLogFacts {
  readonly handled: Map<string, number>;
  readonly duplicates: number;
  readonly staleSkipped: number;
  readonly notYetRetries: number;
  readonly conflictRetries: number;
  readonly failures: number;
}

/** Counts, for the given event ids only, what the inbox did: several runs can share a deployment. */
export function consumerLogFacts(
  lines: ReadonlyArray<Record<string, unknown>>,
  eventIds: ReadonlySet<string>,
): ConsumerLogFacts {
  const facts = {
    handled: new Map<string, number>(),
    duplicates: 0,
    staleSkipped: 0,
    notYetRetries: 0,
    conflictRetries: 0,
    failures: 0,
  };
  for (const line of lines) {
    const eventId = line.eventId;
    if (typeof eventId !== 'string' || !eventIds.has(eventId)) continue;
    if (line.message === 'handled') {
      facts.handled.set(eventId, (facts.handled.get(eventId) ?? 0) + 1);
      facts.staleSkipped += Number(line.staleSkipped ?? 0);
    } else if (line.message === 'duplicate ignored') facts.duplicates++;
    else if (line.message === 'retry later' && line.kind === 'not-yet') facts.notYetRetries++;
    else if (line.message === 'retry later') facts.conflictRetries++;
    else if (line.message === 'handler failed; the message comes back') facts.failures++;
  }
  return facts;
}

/** What the relay's log lines say: entries rejected by code, whole calls that failed. */
export function relayLogFacts(lines: ReadonlyArray<Record<string, unknown>>) {
  const rejectedEntries: Record<string, number> = {};
  let failedCalls = 0;
  for (const line of lines) {
    if (line.message === 'entry rejected' && typeof line.errorCode === 'string') {
      rejectedEntries[line.errorCode] = (rejectedEntries[line.errorCode] ?? 0) + 1;
    } else if (line.message === 'PutEvents call failed') failedCalls++;
  }
  return { rejectedEntries, failedCalls };
}

export { CloudWatchLogsClient };
