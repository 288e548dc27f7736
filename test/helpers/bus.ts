import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { clientConfig, uniqueName } from './aws.js';

export interface TestQueue {
  readonly url: string;
  readonly arn: string;
  /** Receives (and deletes) messages until `until` holds or the timeout passes. */
  drain(until: (messages: Message[]) => boolean, timeoutMs?: number): Promise<Message[]>;
  drop(): Promise<void>;
}

export async function createQueue(sqs: SQSClient, prefix = 'eventbox-q'): Promise<TestQueue> {
  const { QueueUrl = '' } = await sqs.send(
    new CreateQueueCommand({ QueueName: uniqueName(prefix) }),
  );
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn ?? '';
  return {
    url: QueueUrl,
    arn,
    async drain(until, timeoutMs = 20_000) {
      const received: Message[] = [];
      const deadline = Date.now() + timeoutMs;
      while (!until(received) && Date.now() < deadline) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            AttributeNames: ['All'],
          }),
        );
        received.push(...Messages);
        if (Messages.length > 0) {
          await sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: Messages.map((m, i) => ({
                Id: String(i),
                ReceiptHandle: m.ReceiptHandle ?? '',
              })),
            }),
          );
        }
      }
      return received;
    },
    drop: async () => {
      await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
    },
  };
}

export interface TestBus {
  readonly name: string;
  readonly eventBridge: EventBridgeClient;
  readonly sqs: SQSClient;
  /** Receives every event the bus routes for `source`. */
  readonly queue: TestQueue;
  drop(): Promise<void>;
}

/** A custom bus with a rule that routes every event of `source` to a fresh queue. */
export async function createBus(endpoint: string, source: string): Promise<TestBus> {
  const eventBridge = new EventBridgeClient(clientConfig(endpoint));
  const sqs = new SQSClient(clientConfig(endpoint));
  const name = uniqueName('eventbox-bus');
  await eventBridge.send(new CreateEventBusCommand({ Name: name }));
  const queue = await createQueue(sqs);
  const rule = `${name}-all`;
  const { RuleArn } = await eventBridge.send(
    new PutRuleCommand({
      Name: rule,
      EventBusName: name,
      EventPattern: JSON.stringify({ source: [source] }),
    }),
  );
  // Lets the rule deliver on a real account; the emulator does not enforce queue policies.
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queue.url,
      Attributes: {
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: queue.arn,
              Condition: { ArnEquals: { 'aws:SourceArn': RuleArn } },
            },
          ],
        }),
      },
    }),
  );
  await eventBridge.send(
    new PutTargetsCommand({
      Rule: rule,
      EventBusName: name,
      Targets: [{ Id: 'queue', Arn: queue.arn }],
    }),
  );
  return {
    name,
    eventBridge,
    sqs,
    queue,
    drop: async () => {
      await eventBridge
        .send(new RemoveTargetsCommand({ Rule: rule, EventBusName: name, Ids: ['queue'] }))
        .catch(() => undefined);
      await eventBridge
        .send(new DeleteRuleCommand({ Name: rule, EventBusName: name }))
        .catch(() => undefined);
      await eventBridge.send(new DeleteEventBusCommand({ Name: name })).catch(() => undefined);
      await queue.drop();
    },
  };
}
