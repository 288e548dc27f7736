import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EXECUTION_TARGETS_VARIABLE,
  InvalidExecutionStartError,
  startExecution,
} from '../../../lib/jobs/index.js';
import { EventBox } from '../../../lib/producer/index.js';

const transaction = () =>
  new EventBox({
    tableName: 'orders',
    source: 'orders',
    client: new DynamoDBClient({ region: 'eu-west-1' }),
  }).transaction();
const machine = 'arn:aws:states:eu-west-1:111111111111:stateMachine:fraud';
const refund = 'arn:aws:lambda:eu-west-1:111111111111:function:refund';

describe('Function: startExecution', () => {
  afterEach(() => {
    delete process.env[EXECUTION_TARGETS_VARIABLE];
  });

  it('refuses a durable function without a version or alias before anything is added', () => {
    const tx = transaction();

    const start = () =>
      startExecution(tx, { engine: 'durable-function', target: refund, name: 'r1', input: {} });

    expect(start).toThrow(InvalidExecutionStartError);
    expect(start).toThrow(/qualified ARN \(with a version or alias\)/);
    expect(tx.params().TransactItems ?? []).toHaveLength(0);
  });

  it('takes a durable function by version or alias', () => {
    const tx = transaction();

    startExecution(tx, {
      engine: 'durable-function',
      target: `${refund}:live`,
      name: 'r1',
      input: {},
    });

    expect(tx.params().TransactItems).toHaveLength(1);
  });

  it('refuses a target the dispatcher does not start, when the construct lists them', () => {
    process.env[EXECUTION_TARGETS_VARIABLE] = JSON.stringify([machine, `${refund}:live`]);
    const tx = transaction();

    const start = () =>
      startExecution(tx, {
        engine: 'step-functions',
        target: `${machine}-typo`,
        name: 'f1',
        input: {},
      });

    expect(start).toThrow(/is not among the targets the JobRunner's dispatcher starts/);
    expect(tx.params().TransactItems ?? []).toHaveLength(0);
    startExecution(tx, { engine: 'step-functions', target: machine, name: 'f1', input: {} });
    expect(tx.params().TransactItems).toHaveLength(1);
  });
});
