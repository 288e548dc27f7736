import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * A deployed stack as the CLI reads it, for commands tested with the SDK mocked: a
 * template with the constructs' resource metadata, its physical ids, and the functions'
 * environments (the consumer's inbox remembers 30 days); the relay reads the streams of
 * the box's table `shop-box` and of a tenant's table, `shop-tenant-b`.
 */
export const mockedStack = {
  template: {
    Resources: {
      Relay: { Metadata: { eventbox: { role: 'relay-function', relay: 'eventbox-relay-1' } } },
      RelayDlq: {
        Metadata: { eventbox: { role: 'relay-dead-letter-queue', relay: 'eventbox-relay-1' } },
      },
      Scores: { Metadata: { eventbox: { role: 'consumer-function', consumer: 'scores' } } },
      ScoresQueue: { Metadata: { eventbox: { role: 'consumer-queue', consumer: 'scores' } } },
      ScoresDlq: {
        Metadata: { eventbox: { role: 'consumer-dead-letter-queue', consumer: 'scores' } },
      },
      Archive: { Metadata: { eventbox: { role: 'archive' } } },
      Box: { Metadata: { eventbox: { role: 'box-table' } } },
      Plain: {},
    },
  },
  physical: {
    Relay: 'relay-fn',
    RelayDlq: 'https://sqs/relay-dlq',
    Scores: 'scores-fn',
    ScoresQueue: 'https://sqs/scores',
    ScoresDlq: 'https://sqs/scores-dlq',
    Archive: 'shop-archive',
    Box: 'shop-box',
    Plain: 'x',
  } as Record<string, string>,
};

/** The stream ARN of a table of the mocked stack, as its relay's mapping names it. */
export const streamArnOf = (table: string) =>
  `arn:aws:dynamodb:eu-west-1:111122223333:table/${table}/stream/2026-12-01T00:00:00.000`;

/** The SDK mocks the stack is read through; reset them after each test. */
export const stackMocks = {
  cfn: mockClient(CloudFormationClient),
  lambda: mockClient(LambdaClient),
};

/** Answers the CLI's reading of the stack `Shop` (EVENTBOX_STACK) with `mockedStack`. */
export function mockStack(): void {
  const { cfn, lambda } = stackMocks;
  process.env.EVENTBOX_STACK = 'Shop';
  cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify(mockedStack.template) });
  cfn.on(DescribeStackResourcesCommand).resolves({
    StackResources: Object.entries(mockedStack.physical).map(
      ([LogicalResourceId, PhysicalResourceId]) => ({
        LogicalResourceId,
        PhysicalResourceId,
        ResourceType: 'x',
        ResourceStatus: 'CREATE_COMPLETE',
        Timestamp: new Date(),
      }),
    ),
  });
  lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'relay-fn' }).resolves({
    Environment: { Variables: { EVENTBOX_EVENT_BUS_NAME: 'shop-bus' } },
  });
  lambda.on(ListEventSourceMappingsCommand, { FunctionName: 'relay-fn' }).resolves({
    EventSourceMappings: ['shop-box', 'shop-tenant-b'].map((table) => ({
      EventSourceArn: streamArnOf(table),
      State: 'Enabled',
    })),
  });
  lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'scores-fn' }).resolves({
    Environment: {
      Variables: {
        EVENTBOX_INBOX_TTL_SECONDS: String(30 * 86_400),
        EVENTBOX_QUEUE_URL: 'https://sqs/scores',
      },
    },
  });
}
