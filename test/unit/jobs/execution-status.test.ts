import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetDurableExecutionCommand,
  LambdaClient,
  ListDurableExecutionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { JobClient } from '../../../lib/jobs/client.js';
import type { ExecutionRecord } from '../../../lib/jobs/dispatcher.js';

const machine = 'arn:aws:states:us-east-1:111111111111:stateMachine:fraud';
const durable = 'arn:aws:lambda:us-east-1:111111111111:function:refund:$LATEST';
const recordOf = (record: Omit<ExecutionRecord, 'pk' | 'sk' | 'outcome' | 'eventId'>) => ({
  pk: `EXECUTION#${record.name}`,
  sk: record.target,
  outcome: 'started',
  eventId: 'e1',
  ...record,
});

/** Job status of executions the dispatcher recorded, read from their engines. */
describe('JobClient.status of a started execution', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const sfn = mockClient(SFNClient);
  const lambda = mockClient(LambdaClient);
  afterEach(() => {
    ddb.reset();
    sfn.reset();
    lambda.reset();
  });
  const client = () =>
    new JobClient({
      tableName: 'jobs',
      client: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      engines: {
        stepFunctions: new SFNClient({ region: 'us-east-1' }),
        lambda: new LambdaClient({ region: 'us-east-1' }),
      },
    });
  const recorded = (record: object) =>
    // No job under the id; the dispatcher's record under EXECUTION#<name>.
    ddb
      .on(QueryCommand)
      .callsFake((input) =>
        input.ExpressionAttributeValues?.[':pk']?.startsWith('EXECUTION#')
          ? { Items: [record] }
          : { Items: [] },
      );

  it('reports a Step Functions execution with its engine status and times', async () => {
    const arn = `${machine.replace(':stateMachine:', ':execution:')}:fraud-o1`;
    recorded(
      recordOf({
        engine: 'step-functions',
        target: machine,
        name: 'fraud-o1',
        executionArn: arn,
        startedAt: '2026-12-01T00:00:00.000Z',
      }),
    );
    sfn.on(DescribeExecutionCommand, { executionArn: arn }).resolves({
      status: 'SUCCEEDED',
      startDate: new Date('2026-12-01T00:00:01Z'),
      stopDate: new Date('2026-12-01T00:00:03Z'),
    });

    const status = await client().status('fraud-o1');

    expect(status).toMatchObject({
      jobId: 'fraud-o1',
      name: 'fraud',
      state: 'succeeded',
      createdAt: '2026-12-01T00:00:01.000Z',
      finishedAt: '2026-12-01T00:00:03.000Z',
      execution: { engine: 'step-functions', executionArn: arn, status: 'SUCCEEDED' },
    });
  });

  it('finds a durable execution by its name when the invoke returned no ARN', async () => {
    const arn = `${durable}/durable-execution/refund-o1/1`;
    recorded(
      recordOf({
        engine: 'durable-function',
        target: durable,
        name: 'refund-o1',
        startedAt: '2026-12-01T00:00:00.000Z',
      }),
    );
    lambda
      .on(ListDurableExecutionsByFunctionCommand, {
        FunctionName: durable,
        DurableExecutionName: 'refund-o1',
      })
      .resolves({
        DurableExecutions: [
          {
            DurableExecutionName: 'refund-o1',
            DurableExecutionArn: arn,
            FunctionArn: durable,
            Status: 'RUNNING',
            StartTimestamp: new Date('2026-12-01T00:00:01Z'),
          },
        ],
      })
      .on(GetDurableExecutionCommand, { DurableExecutionArn: arn })
      .resolves({ Status: 'FAILED', StartTimestamp: new Date('2026-12-01T00:00:01Z') });

    const status = await client().status('refund-o1');

    expect(status).toMatchObject({
      state: 'failed',
      execution: { engine: 'durable-function', executionArn: arn, status: 'FAILED' },
    });
  });

  it('says STARTED (running) when the engine lists nothing under the name yet', async () => {
    recorded(
      recordOf({
        engine: 'durable-function',
        target: durable,
        name: 'refund-o2',
        startedAt: '2026-12-01T00:00:00.000Z',
      }),
    );
    lambda.on(ListDurableExecutionsByFunctionCommand).resolves({ DurableExecutions: [] });

    const status = await client().status('refund-o2');

    expect(status?.state).toBe('running');
    expect(status?.execution).toEqual({
      engine: 'durable-function',
      target: durable,
      status: 'STARTED',
    });
    expect(status?.createdAt).toBe('2026-12-01T00:00:00.000Z');
    expect(lambda.commandCalls(GetDurableExecutionCommand)).toHaveLength(0);
  });
});
