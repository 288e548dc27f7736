import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EmulatorClientConfig } from '../../lib/emulator/start.js';

/** Counts DynamoDB calls by operation and sums the capacity they consume. */
export function meteredClient(config: EmulatorClientConfig) {
  const client = new DynamoDBClient(config);
  const meter = { calls: {} as Record<string, number>, wcu: 0, rcu: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      input.ReturnConsumedCapacity = 'TOTAL';
      const name = (context.commandName ?? '').replace(/Command$/, '');
      meter.calls[name] = (meter.calls[name] ?? 0) + 1;
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      for (const c of [consumed].flat() as Array<
        | { WriteCapacityUnits?: number; ReadCapacityUnits?: number; CapacityUnits?: number }
        | undefined
      >) {
        meter.wcu += c?.WriteCapacityUnits ?? 0;
        meter.rcu += c?.ReadCapacityUnits ?? 0;
        if (c && c.WriteCapacityUnits === undefined && c.ReadCapacityUnits === undefined) {
          // Some engines report only the total; the operation tells which it was.
          if (/Get|Query|Scan/.test(name)) meter.rcu += c.CapacityUnits ?? 0;
          else meter.wcu += c.CapacityUnits ?? 0;
        }
      }
      return result;
    },
    { step: 'initialize', name: `meter-${randomUUID()}` },
  );
  const reset = () => {
    meter.calls = {};
    meter.wcu = 0;
    meter.rcu = 0;
  };
  return { client, meter, reset };
}
