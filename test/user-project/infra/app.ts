import { App, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { EventBox, EventBoxConsumer, eventboxFunctionDefaults } from 'eventbox/cdk';

const app = new App();
const stack = new Stack(app, 'Inventory');

// The box exactly as the README shows it: no props written for the emulator.
const box = new EventBox(stack, 'Shop');

const placeOrder = new NodejsFunction(stack, 'PlaceOrder', {
  ...eventboxFunctionDefaults,
  entry: 'functions/place-order.ts',
  timeout: Duration.seconds(30),
  environment: { ...eventboxFunctionDefaults.environment, TABLE_NAME: box.table.tableName },
});
box.grantReadWrite(placeOrder);

const stock = new EventBoxConsumer(stack, 'Stock', {
  consumerName: 'stock',
  eventBus: box.eventBus,
  eventPattern: { source: ['shop'], detailType: ['OrderPlaced'] },
  entry: 'functions/stock.ts',
  tableProps: { removalPolicy: RemovalPolicy.DESTROY },
});

const outputs = {
  PlaceOrderFunctionName: placeOrder.functionName,
  StockFunctionName: stock.function.functionName,
  StockTableName: stock.table.tableName,
  StockQueueUrl: stock.queue.queueUrl,
  StockDeadLetterQueueUrl: stock.deadLetterQueue.queueUrl,
  RelayDeadLetterQueueUrl: box.deadLetterQueue.queueUrl,
};
for (const [name, value] of Object.entries(outputs)) new CfnOutput(stack, name, { value });
