import {
  DurableExecutionAlreadyStartedException,
  InvokeCommand,
  LambdaClient,
  ResourceNotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidMessageError } from '../../../lib/consumer/errors.js';
import { dispatchExecution } from '../../../lib/jobs/dispatcher.js';
import { InvalidExecutionStartError } from '../../../lib/jobs/errors.js';
import { startExecution } from '../../../lib/jobs/executions.js';
import { Transaction } from '../../../lib/transaction/transaction.js';
import { testSettings } from '../../helpers/settings.js';

const machine = 'arn:aws:states:us-east-1:111111111111:stateMachine:fraud';
const durable = 'arn:aws:lambda:us-east-1:111111111111:function:refund:$LATEST';
const sfnStart = {
  engine: 'step-functions',
  target: machine,
  name: 'fraud-o1',
  input: '{"orderId":"o1","amount":5}',
} as const;
const durableStart = {
  engine: 'durable-function',
  target: durable,
  name: 'refund-o1',
  input: '{"orderId":"o1"}',
} as const;
const awsError = <T>(Type: new (args: never) => T, message = 'refused') =>
  new Type({ message, $metadata: {} } as never);

/** The start contract against AWS's documented semantics, with the SDKs mocked. */
describe('Function: dispatchExecution', () => {
  const sfn = mockClient(SFNClient);
  const lambda = mockClient(LambdaClient);
  const clients = { stepFunctions: new SFNClient({}), lambda: new LambdaClient({}) };

  afterEach(() => {
    sfn.reset();
    lambda.reset();
  });

  describe('Step Functions', () => {
    it('starts the execution with its name and input', async () => {
      sfn
        .on(StartExecutionCommand)
        .resolves({ executionArn: `${machine}:fraud-o1`, startDate: new Date() });

      const started = await dispatchExecution(sfnStart, clients);

      expect(started).toStrictEqual({ executionArn: `${machine}:fraud-o1`, outcome: 'started' });
      expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toStrictEqual({
        stateMachineArn: machine,
        name: 'fraud-o1',
        input: sfnStart.input,
      });
    });

    it('takes an existing execution of the same name and input (whatever the key order) as started', async () => {
      sfn.on(StartExecutionCommand).rejects(awsError(ExecutionAlreadyExists));
      sfn.on(DescribeExecutionCommand).resolves({ input: '{"amount":5,"orderId":"o1"}' } as never);

      const started = await dispatchExecution(sfnStart, clients);

      expect(started).toStrictEqual({
        executionArn: 'arn:aws:states:us-east-1:111111111111:execution:fraud:fraud-o1',
        outcome: 'existing',
      });
      expect(sfn.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toStrictEqual({
        executionArn: 'arn:aws:states:us-east-1:111111111111:execution:fraud:fraud-o1',
      });
    });

    it('dead-letters an existing execution of the same name with another input', async () => {
      sfn.on(StartExecutionCommand).rejects(awsError(ExecutionAlreadyExists));
      sfn.on(DescribeExecutionCommand).resolves({ input: '{"orderId":"o1","amount":6}' } as never);

      await expect(dispatchExecution(sfnStart, clients)).rejects.toThrow(
        new InvalidMessageError(
          `execution fraud-o1 of ${machine} was started with a different input`,
        ),
      );
    });

    it('dead-letters a start of a state machine that does not exist', async () => {
      sfn.on(StartExecutionCommand).rejects(awsError(StateMachineDoesNotExist, 'no such machine'));

      await expect(dispatchExecution(sfnStart, clients)).rejects.toBeInstanceOf(
        InvalidMessageError,
      );
    });

    it.each([
      ['throttling', Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })],
      [
        'access denied',
        Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }),
      ],
    ])('retries on %s: the error goes up as it is, not dead-lettered', async (_, error) => {
      sfn.on(StartExecutionCommand).rejects(error);

      const thrown = await dispatchExecution(sfnStart, clients).catch((e: unknown) => e);

      expect(thrown).toBe(error);
      expect(thrown).not.toBeInstanceOf(InvalidMessageError);
    });
  });

  describe('Durable functions', () => {
    it('invokes asynchronously with the durable execution name and the input as payload', async () => {
      lambda.on(InvokeCommand).resolves({
        StatusCode: 202,
        DurableExecutionArn: `${durable}/durable-execution/refund-o1/1`,
      });

      const started = await dispatchExecution(durableStart, clients);

      expect(started.executionArn).toBe(`${durable}/durable-execution/refund-o1/1`);
      const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
      expect(input).toMatchObject({
        FunctionName: durable,
        InvocationType: 'Event',
        DurableExecutionName: 'refund-o1',
      });
      expect(Buffer.from(input?.Payload as Uint8Array).toString()).toBe(durableStart.input);
    });

    it('takes the same name and payload again as the existing execution (Lambda returns it)', async () => {
      lambda.on(InvokeCommand).resolves({
        StatusCode: 202,
        DurableExecutionArn: `${durable}/durable-execution/refund-o1/1`,
      });

      const first = await dispatchExecution(durableStart, clients);
      const again = await dispatchExecution(durableStart, clients);

      expect(again).toStrictEqual(first);
    });

    it.each([
      [
        'another payload under the name',
        awsError(DurableExecutionAlreadyStartedException),
        /was started with a different input/,
      ],
      [
        'a function that does not exist',
        awsError(ResourceNotFoundException),
        /Lambda refused the start: ResourceNotFoundException/,
      ],
    ])('dead-letters %s', async (_, error, reason) => {
      lambda.on(InvokeCommand).rejects(error);

      const thrown = await dispatchExecution(durableStart, clients).catch((e: unknown) => e);

      expect(thrown).toBeInstanceOf(InvalidMessageError);
      expect((thrown as Error).message).toMatch(reason);
    });

    it('retries on throttling', async () => {
      const error = awsError(TooManyRequestsException);
      lambda.on(InvokeCommand).rejects(error);

      await expect(dispatchExecution(durableStart, clients)).rejects.toBe(error);
    });
  });
});

describe('Function: startExecution', () => {
  it('publishes the start, with the input as JSON, in the transaction', () => {
    const tx = new Transaction(testSettings());

    const event = startExecution(tx, {
      engine: 'step-functions',
      target: machine,
      name: 'fraud-o1',
      input: { orderId: 'o1' },
    });

    expect(event).toMatchObject({
      type: 'eventbox.execution.start',
      payload: {
        engine: 'step-functions',
        target: machine,
        name: 'fraud-o1',
        input: '{"orderId":"o1"}',
      },
    });
    expect(tx.events).toHaveLength(1);
  });

  it.each([
    [
      'an ARN that is not a state machine',
      { target: 'arn:aws:lambda:us-east-1:1:function:x' },
      /target: not a state machine ARN/,
    ],
    ['a name the engine refuses', { name: 'has spaces' }, /name: must be 1 to 80 letters, digits/],
    [
      'an input over 256 KB',
      { input: 'x'.repeat(262_145) },
      /input: 262147 bytes; the engine takes at most 262144/,
    ],
    ['an input JSON cannot carry', { input: { n: BigInt(1) } }, /input: not representable in JSON/],
    [
      'a durable name over 64 characters',
      { engine: 'durable-function', target: durable, name: 'x'.repeat(65) },
      /must be 1 to 64/,
    ],
  ])('refuses %s before adding anything', (_, change, reason) => {
    const tx = new Transaction(testSettings());

    expect(() =>
      startExecution(tx, {
        engine: 'step-functions',
        target: machine,
        name: 'n',
        input: {},
        ...change,
      } as never),
    ).toThrow(InvalidExecutionStartError);
    expect(() =>
      startExecution(tx, {
        engine: 'step-functions',
        target: machine,
        name: 'n',
        input: {},
        ...change,
      } as never),
    ).toThrow(reason);
    expect(tx.events).toHaveLength(0);
  });
});
