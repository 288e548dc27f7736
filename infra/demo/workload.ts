import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { OrdersResult } from '../../functions/example/orders/index.js';
import type { OrdersCommand } from '../../functions/example/orders/service.js';
import type { EventEnvelope } from '../../lib/producer/index.js';
import { seededRandom } from './random.js';
import { StageError } from './stage-error.js';

export interface WorkloadOptions {
  /** Business operations to run. */
  readonly operations: number;
  /** Keeps this run's users and orders apart from any other run's. */
  readonly runId: string;
  readonly seed?: number;
  /** Invocations of the orders function in flight at once. @default 4 */
  readonly concurrency?: number;
  /** Commands per invocation. @default 5 */
  readonly commandsPerInvocation?: number;
  /** At most this many users, so that concurrent commands fight over the same aggregates. @default 20 */
  readonly maxUsers?: number;
  /** A region a quarter of the region changes move to: the soak's consumer has a bug for it. */
  readonly poisonRegion?: string;
  readonly onProgress?: (done: number) => void;
}

export interface WorkloadResult {
  readonly operations: number;
  readonly rejected: number;
  /** Every event the orders service committed, in commit order per invocation. */
  readonly events: readonly EventEnvelope[];
}

interface OrderState {
  readonly id: string;
  readonly userId: string;
  status: 'placed' | 'paid' | 'canceled';
}

/**
 * Plays a shop: users sign up, rename themselves and move region; they place, pay and
 * cancel orders. Commands that must follow one another (place, then pay) never share a
 * round; commands of one round run concurrently, so the same user is often changed by
 * several invocations at once.
 */
export async function driveWorkload(
  lambda: LambdaClient,
  functionName: string,
  options: WorkloadOptions,
): Promise<WorkloadResult> {
  const random = seededRandom(options.seed ?? 7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const concurrency = options.concurrency ?? 4;
  const perInvocation = options.commandsPerInvocation ?? 5;
  const users: string[] = [];
  const orders: OrderState[] = [];
  const regions = ['us', 'eu', 'ap', 'sa'];
  let userCount = 0;
  let done = 0;
  let orderCount = 0;
  const newUser = (): OrdersCommand => {
    const userId = `${options.runId}-u${userCount++}`;
    users.push(userId);
    return { command: 'createUser', userId, name: `User ${userCount}`, region: pick(regions) };
  };

  // Users created in the current round may not exist yet when its other commands run.
  let existing: string[] = [];
  const nextCommand = (busy: Set<string>): OrdersCommand => {
    // Enough users that concurrent commands do not all fight over the same few.
    const maxUsers = options.maxUsers ?? 20;
    if (existing.length < Math.min(3, maxUsers) || users.length < Math.min(maxUsers, 3 + done / 10))
      return newUser();
    const roll = random();
    const open = orders.filter((o) => o.status !== 'canceled' && !busy.has(o.id));
    if (roll < 0.3) {
      const orderId = `${options.runId}-o${orderCount++}`;
      const userId = pick(existing);
      busy.add(orderId);
      orders.push({ id: orderId, userId, status: 'placed' });
      return { command: 'placeOrder', orderId, userId, amount: 1 + Math.floor(random() * 50) };
    }
    const placed = open.filter((o) => o.status === 'placed');
    if (roll < 0.55 && placed.length > 0) {
      const order = pick(placed);
      busy.add(order.id);
      order.status = 'paid';
      return { command: 'payOrder', orderId: order.id };
    }
    if (roll < 0.65 && open.length > 0) {
      const order = pick(open);
      busy.add(order.id);
      order.status = 'canceled';
      return { command: 'cancelOrder', orderId: order.id };
    }
    if (roll < 0.8)
      return {
        command: 'renameUser',
        userId: pick(existing),
        name: `Renamed ${Math.floor(random() * 1000)}`,
      };
    if (roll < 0.9) {
      const poisoned = options.poisonRegion !== undefined && random() < 0.25;
      const region = poisoned ? (options.poisonRegion as string) : pick(regions);
      return { command: 'changeRegion', userId: pick(existing), region };
    }
    return newUser();
  };

  const events: EventEnvelope[] = [];
  let rejected = 0;
  while (done < options.operations) {
    const busy = new Set<string>();
    existing = [...users];
    const round = Math.min(options.operations - done, concurrency * perInvocation);
    const commands = Array.from({ length: round }, () => nextCommand(busy));
    const batches = Array.from({ length: Math.ceil(commands.length / perInvocation) }, (_, i) =>
      commands.slice(i * perInvocation, (i + 1) * perInvocation),
    );
    const results = await Promise.all(batches.map((batch) => invoke(lambda, functionName, batch)));
    for (const result of results.flat()) {
      if (result.rejected) rejected++;
      events.push(...(result.events ?? []));
    }
    done += round;
    options.onProgress?.(done);
  }
  return { operations: done, rejected, events };
}

export async function invoke(
  lambda: LambdaClient,
  functionName: string,
  commands: OrdersCommand[],
): Promise<OrdersResult[]> {
  const response = await lambda.send(
    new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify({ commands }) }),
  );
  const body = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  if (response.FunctionError)
    throw new StageError('drive operations', `the orders function failed: ${body}`);
  return (JSON.parse(body) as { results: OrdersResult[] }).results;
}
