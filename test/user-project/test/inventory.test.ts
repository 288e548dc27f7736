import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  deployApp,
  envelope,
  eventBridgeEventOf,
  readDeadLetters,
  readInbox,
  sqsEventOf,
  waitUntilQuiet,
} from 'eventbox/testing';
import { beforeAll, describe, expect, inject, it } from 'vitest';

/** The inventory service deployed to the emulator by its own CDK app, driven end to end. */
describe('Inventory service on the emulator', () => {
  const emulator = inject('eventbox');
  const lambda = new LambdaClient(emulator.clientConfig);
  const sqs = new SQSClient(emulator.clientConfig);
  const ddb = new DynamoDBClient(emulator.clientConfig);
  const document = DynamoDBDocumentClient.from(ddb);
  let outputs: Readonly<Record<string, string>>;

  beforeAll(async () => {
    ({ outputs } = await deployApp({ emulator, stackName: 'Inventory' }));
  });

  const stockOf = async (sku: string) =>
    (
      await document.send(
        new GetCommand({
          TableName: outputs.StockTableName,
          Key: { pk: `STOCK#${sku}`, sk: 'STOCK' },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('reserves stock once per order placed, through the relay, the bus and the inbox', async () => {
    // Prepare
    const orders = Array.from({ length: 12 }, (_, i) => ({
      orderId: `o-${i}`,
      sku: `sku-${i % 3}`,
      quantity: i + 1,
    }));

    // Act
    const placed = await Promise.all(
      orders.map(async (order) => {
        const response = await lambda.send(
          new InvokeCommand({
            FunctionName: outputs.PlaceOrderFunctionName,
            Payload: JSON.stringify(order),
          }),
        );
        expect(response.FunctionError).toBeUndefined();
        return JSON.parse(Buffer.from(response.Payload ?? []).toString()) as { eventId: string };
      }),
    );
    const inbox = () => readInbox(ddb, outputs.StockTableName ?? '', 'stock');
    await waitUntilQuiet(sqs, {
      queueUrls: [outputs.StockQueueUrl ?? ''],
      until: async () => (await inbox()).size === orders.length,
    });
    // EventBridge delivers at least once: hand the stock queue one of the events again.
    const [first] = placed;
    const order = orders[0];
    if (!first || !order) throw new Error('nothing placed');
    const again = {
      ...envelope({
        type: 'OrderPlaced',
        source: 'shop',
        aggregate: { type: 'Order', id: order.orderId, version: 1 },
        payload: order,
      }),
      id: first.eventId,
    };
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: outputs.StockQueueUrl,
        MessageBody: JSON.stringify(eventBridgeEventOf(again)),
      }),
    );
    await waitUntilQuiet(sqs, { queueUrls: [outputs.StockQueueUrl ?? ''] });

    // Assess
    const applied = await inbox();
    expect([...applied.keys()].sort()).toStrictEqual(placed.map((p) => p.eventId).sort());
    for (const sku of ['sku-0', 'sku-1', 'sku-2']) {
      const mine = orders.filter((o) => o.sku === sku);
      expect(await stockOf(sku)).toMatchObject({
        reserved: mine.reduce((sum, o) => sum + o.quantity, 0),
        orders: new Set(mine.map((o) => o.orderId)),
      });
    }
    expect(await readDeadLetters(sqs, outputs.StockDeadLetterQueueUrl ?? '')).toStrictEqual([]);
    expect(await readDeadLetters(sqs, outputs.RelayDeadLetterQueueUrl ?? '')).toStrictEqual([]);
  });

  it('absorbs a duplicate in one batch, invoked with a built SQS event', async () => {
    // Prepare
    const event = envelope({
      type: 'OrderPlaced',
      source: 'shop',
      aggregate: { type: 'Order', id: 'direct', version: 1 },
      payload: { orderId: 'direct', sku: 'sku-direct', quantity: 5 },
    });

    // Act
    const response = await lambda.send(
      new InvokeCommand({
        FunctionName: outputs.StockFunctionName,
        Payload: JSON.stringify(sqsEventOf([event, event])),
      }),
    );

    // Assess
    expect(JSON.parse(Buffer.from(response.Payload ?? []).toString())).toStrictEqual({
      batchItemFailures: [],
    });
    expect(await stockOf('sku-direct')).toMatchObject({ reserved: 5 });
  });
});
