import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { inboxKey } from '../../../lib/consumer/inbox/format.js';
import { createExecutionDispatcher, executionKey } from '../../../lib/jobs/dispatcher.js';
import { EXECUTION_START } from '../../../lib/jobs/executions.js';
import { clientConfig, createTable, type TestTable } from '../../helpers/aws.js';
import { envelope, sqsEventOf, sqsMessage } from '../../helpers/inbox.js';
import { lambdaContext } from '../../helpers/lambda-context.js';

const machine = 'arn:aws:states:us-east-1:111111111111:stateMachine:fraud';

/**
 * "Once by name" beyond the windows of the inbox (7 days) and of the engines (a Step
 * Functions name is free again 90 days after its execution closed): the dispatcher reads
 * its own record of the execution before it starts one. Step Functions is mocked: no
 * emulator frees a name after 90 days.
 */
describe.each(inject('eventbox').dynamoDbEngines)(
  'Execution dispatcher on $name',
  ({ endpoint }) => {
    const sfn = mockClient(SFNClient);
    let table: TestTable;

    beforeAll(async () => {
      table = await createTable(endpoint, 'dispatch');
    });

    afterAll(async () => {
      sfn.restore();
      await table.drop();
    });

    const dispatcher = () =>
      createExecutionDispatcher({
        consumerName: 'dispatcher',
        tableName: table.tableName,
        client: table.client,
        sqsClientConfig: clientConfig(endpoint),
        clients: { stepFunctions: new SFNClient({}), lambda: new LambdaClient({}) },
      });
    const start = (input: string) =>
      envelope({
        type: EXECUTION_START,
        aggregate: { type: 'ExecutionStart', id: `fraud-o1/${Math.random()}`, version: 1 },
        payload: { engine: 'step-functions', target: machine, name: 'fraud-o1', input },
      });

    it('a start that comes after its inbox record expired, or from another transaction, starts nothing again', async () => {
      // Prepare: the engine would start the name again (its 90 days are over).
      sfn.reset();
      sfn.on(StartExecutionCommand).resolves({ executionArn: `${machine}:fraud-o1` });
      const handler = dispatcher();
      const first = start('{"orderId":"o1"}');
      await handler(sqsEventOf([sqsMessage(first)]), lambdaContext());

      // Act: the same event after its inbox record expired, and a start of the same name
      // and input (keys in another order) from another transaction.
      await table.document.send(
        new DeleteCommand({
          TableName: table.tableName,
          Key: inboxKey(
            {
              tableName: table.tableName,
              partitionKey: 'pk',
              sortKey: 'sk',
              versionAttribute: 'version',
            },
            'dispatcher',
            first.id,
          ),
        }),
      );
      const late = await handler(sqsEventOf([sqsMessage(first)]), lambdaContext());
      const again = await handler(
        sqsEventOf([sqsMessage(start('{ "orderId": "o1" }'))]),
        lambdaContext(),
      );

      // Assess
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
      expect(late).toStrictEqual({ batchItemFailures: [] });
      expect(again).toStrictEqual({ batchItemFailures: [] });
      const { Item } = await table.document.send(
        new GetCommand({
          TableName: table.tableName,
          Key: executionKey('fraud-o1', machine),
          ConsistentRead: true,
        }),
      );
      expect(Item).toMatchObject({ outcome: 'started', eventId: first.id });
      expect(Item?.inputHash).toMatch(/^[0-9a-f]{64}$/);
    });
  },
);
