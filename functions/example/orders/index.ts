import { EventBox, type EventEnvelope } from '../../../lib/producer/index.js';
import { CommandRejectedError, type OrdersCommand, OrdersService } from './service.js';

/**
 * The orders service Lambda of the example app. Takes `{ commands: [...] }` and answers,
 * per command, the events it committed or why it was rejected.
 */
const tableName = process.env.TABLE_NAME;
if (!tableName) throw new Error('TABLE_NAME is not set');
const service = new OrdersService(
  new EventBox({ tableName, source: process.env.EVENT_SOURCE ?? 'orders' }),
  {
    ...(process.env.FRAUD_STATE_MACHINE_ARN
      ? { fraudCheckArn: process.env.FRAUD_STATE_MACHINE_ARN }
      : {}),
    ...(process.env.REFUND_FUNCTION_ARN ? { refundArn: process.env.REFUND_FUNCTION_ARN } : {}),
  },
);

export interface OrdersResult {
  readonly command: OrdersCommand['command'];
  readonly events?: readonly EventEnvelope[];
  readonly rejected?: string;
}

export async function handler(input: {
  commands: OrdersCommand[];
}): Promise<{ results: OrdersResult[] }> {
  const results: OrdersResult[] = [];
  for (const command of input.commands ?? []) {
    try {
      results.push({ command: command.command, events: await service.execute(command) });
    } catch (error) {
      if (!(error instanceof CommandRejectedError)) throw error;
      results.push({ command: command.command, rejected: error.message });
    }
  }
  return { results };
}
