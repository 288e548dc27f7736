import { randomUUID } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import type {
  Context,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  EventBridgeEvent,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { createEnvelope, serializeEnvelope } from '../envelope/create.js';
import type { EventEnvelope, EventInput } from '../envelope/envelope.js';
import { OutboxItem, outboxItem } from '../envelope/outbox-item.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

/**
 * A valid envelope as a producer would publish it: id, time and defaults filled in.
 * @example const event = envelope({ type: 'OrderPaid', source: 'orders', aggregate: { type: 'Order', id: '1', version: 2 }, payload: { amount: 5 } });
 */
export function envelope<T>(
  input: EventInput<T> & { readonly source?: string; readonly time?: Date },
): EventEnvelope<T> {
  const { source = 'test', time, ...event } = input;
  return createEnvelope(event, { source, ...(time ? { now: time } : {}) });
}

/** The EventBridge event a rule delivers for an envelope (what a consumer's SQS body holds). */
export function eventBridgeEventOf<T>(
  event: EventEnvelope<T>,
): EventBridgeEvent<string, EventEnvelope<T>> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': event.type,
    source: event.source,
    account: ACCOUNT,
    time: event.time,
    region: REGION,
    resources: [],
    detail: event,
  };
}

export interface SqsRecordOptions {
  /** @default 1 */
  readonly receiveCount?: number;
  /** @default arn:aws:sqs:us-east-1:000000000000:test-queue */
  readonly queueArn?: string;
  /** For FIFO queues. */
  readonly messageGroupId?: string;
  /** @default a new UUID */
  readonly messageId?: string;
}

/**
 * One SQS record carrying an envelope as a rule → queue delivers it, or any body you give
 * (`{ rawBody: 'not json' }`) to test what the inbox does with bad input.
 */
export function sqsRecordOf(
  event: EventEnvelope | { readonly rawBody: string },
  options: SqsRecordOptions = {},
): SQSRecord {
  const messageId = options.messageId ?? randomUUID();
  return {
    messageId,
    receiptHandle: `receipt-${messageId}`,
    body: 'rawBody' in event ? event.rawBody : JSON.stringify(eventBridgeEventOf(event)),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: 'events.amazonaws.com',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(options.messageGroupId ? { MessageGroupId: options.messageGroupId } : {}),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn ?? `arn:aws:sqs:${REGION}:${ACCOUNT}:test-queue`,
    awsRegion: REGION,
  };
}

/**
 * The Lambda event of an SQS event source mapping: envelopes (delivered once each) or
 * records built with `sqsRecordOf` (for redeliveries and FIFO groups).
 * @example await handler(sqsEventOf([paid, paid]), lambdaContext()); // a duplicate delivery
 */
export function sqsEventOf(items: ReadonlyArray<EventEnvelope | SQSRecord>): SQSEvent {
  return {
    Records: items.map((item) => ('eventSource' in item ? item : sqsRecordOf(item))),
  };
}

let sequence = 1_000;

export interface StreamRecordOptions {
  /** @default 'INSERT' */
  readonly eventName?: 'INSERT' | 'MODIFY' | 'REMOVE';
  /** @default the next number of a counter shared by every record built */
  readonly sequenceNumber?: string;
  /** @default a stream of a table named `test` */
  readonly streamArn?: string;
  /** @default { partitionKey: 'pk', sortKey: 'sk' } */
  readonly keys?: { readonly partitionKey: string; readonly sortKey: string };
  /** The old image, for MODIFY and REMOVE. */
  readonly oldImage?: Record<string, unknown>;
}

/** A DynamoDB stream record (NEW_AND_OLD_IMAGES) for an item, as Lambda delivers it. */
export function streamRecordOf(
  item: Record<string, unknown>,
  options: StreamRecordOptions = {},
): DynamoDBRecord {
  const { partitionKey, sortKey } = options.keys ?? { partitionKey: 'pk', sortKey: 'sk' };
  const eventName = options.eventName ?? 'INSERT';
  sequence++;
  const image = marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true });
  return {
    eventID: randomUUID(),
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    eventSourceARN:
      options.streamArn ??
      `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/test/stream/2026-01-01T00:00:00.000`,
    awsRegion: REGION,
    dynamodb: {
      Keys: marshall(
        { [partitionKey]: item[partitionKey], [sortKey]: item[sortKey] },
        { removeUndefinedValues: true },
      ) as never,
      ...(eventName === 'REMOVE' ? {} : { NewImage: image as never }),
      ...(options.oldImage ? { OldImage: marshall(options.oldImage) as never } : {}),
      SequenceNumber: options.sequenceNumber ?? String(sequence).padStart(21, '0'),
      SizeBytes: 100,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  };
}

/** The outbox item a transaction writes for an envelope, exactly as it is stored. */
export function outboxItemOf(
  event: EventEnvelope,
  options: { readonly keys?: { readonly partitionKey: string; readonly sortKey: string } } = {},
): Record<string, unknown> {
  return outboxItem({
    envelope: event,
    detail: serializeEnvelope(event),
    keys: options.keys ?? { partitionKey: 'pk', sortKey: 'sk' },
    ttl: { attribute: OutboxItem.defaultTtlAttribute, seconds: OutboxItem.defaultTtlSeconds },
    now: new Date(event.time),
  });
}

/** The stream record of an envelope's outbox INSERT: what the relay receives. */
export function outboxRecordOf(
  event: EventEnvelope,
  options: Omit<StreamRecordOptions, 'eventName' | 'oldImage'> = {},
): DynamoDBRecord {
  return streamRecordOf(outboxItemOf(event, options.keys ? { keys: options.keys } : {}), options);
}

/** The Lambda event of a DynamoDB stream event source mapping. */
export function streamEventOf(records: readonly DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: [...records] };
}

/** A Lambda context whose remaining time counts down from `timeoutMs`. */
export function lambdaContext(timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test-function',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:test-function`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/test-function',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
