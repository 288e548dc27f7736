import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { createRelayHandler } from '../../../lib/relay/handler.js';
import { lambdaContext } from '../../helpers/lambda-context.js';
import {
  outboxImage,
  outboxRecord,
  streamEvent,
  streamRecord,
} from '../../helpers/stream-records.js';

const made = vi.hoisted(() => ({ sqsClients: 0 }));

// Counts the SQS clients made: the relay's hot path is meant to make none.
vi.mock('@aws-sdk/client-sqs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('@aws-sdk/client-sqs')>();
  class CountedSQSClient extends actual.SQSClient {
    constructor(...args: ConstructorParameters<typeof actual.SQSClient>) {
      super(...args);
      made.sqsClients++;
    }
  }
  return { ...actual, SQSClient: CountedSQSClient };
});

describe('Function: createRelayHandler, its SQS client', () => {
  it('is made on the first poison record, once, and never for batches that publish', async () => {
    // Prepare
    const eventBridge = new EventBridgeClient({ region: 'us-east-1' });
    mockClient(eventBridge)
      .on(PutEventsCommand)
      .callsFake(async (input: { Entries: unknown[] }) => ({
        FailedEntryCount: 0,
        Entries: input.Entries.map((_, i) => ({ EventId: `e-${i}` })),
      }));
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const relay = createRelayHandler({
      eventBusName: 'orders-bus',
      deadLetterQueueUrl: 'http://localhost/000000000000/relay-dlq',
      eventBridgeClient: eventBridge,
      sqsClientConfig: { region: 'us-east-1' },
    });
    const poison = () => streamRecord('INSERT', { ...outboxImage('o-9', 1), detail: '{oops' });

    // Act and assess
    await relay(streamEvent([outboxRecord('o-1', 1), outboxRecord('o-2', 1)]), lambdaContext());
    // Any import the relay started has finished by now.
    await vi.dynamicImportSettled();
    expect(made.sqsClients).toBe(0);
    await relay(streamEvent([poison()]), lambdaContext());
    await relay(streamEvent([poison()]), lambdaContext());
    expect(made.sqsClients).toBe(1);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(2);
  });
});
