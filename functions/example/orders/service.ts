import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startExecution, startJob } from '../../../lib/jobs/index.js';
import type { EventEnvelope } from '../../../lib/producer/index.js';
import {
  ConditionFailedError,
  type EventBox,
  type Transaction,
  TransactionConflictError,
  VersionConflictError,
} from '../../../lib/producer/index.js';
import { fulfilmentJobId, fulfilOrder } from '../fulfilment/job.js';

/** A command the orders service accepts. */
export type OrdersCommand =
  | {
      readonly command: 'createUser';
      readonly userId: string;
      readonly name: string;
      readonly region: string;
    }
  | { readonly command: 'renameUser'; readonly userId: string; readonly name: string }
  | { readonly command: 'changeRegion'; readonly userId: string; readonly region: string }
  | {
      readonly command: 'placeOrder';
      readonly orderId: string;
      readonly userId: string;
      readonly amount: number;
    }
  | { readonly command: 'payOrder'; readonly orderId: string }
  | { readonly command: 'cancelOrder'; readonly orderId: string };

interface User {
  readonly userId: string;
  readonly name: string;
  readonly region: string;
  readonly regionVersion: number;
  readonly version: number;
}

interface Order {
  readonly orderId: string;
  readonly userId: string;
  readonly amount: number;
  readonly status: 'placed' | 'paid' | 'canceled';
  readonly paidTime: string | null;
  readonly userRegionVersion: number;
  readonly version: number;
}

/** The business refused a command (unknown user, order already canceled, ...). */
export class CommandRejectedError extends Error {
  override name = 'CommandRejectedError';
}

const userKey = (userId: string) => ({ pk: `USER#${userId}`, sk: 'USER' });
const orderKey = (orderId: string) => ({ pk: `ORDER#${orderId}`, sk: 'ORDER' });
const MAX_ATTEMPTS = 10;

/** Where the orders service starts its workflows: a state machine and a durable function. */
export interface OrdersWorkflows {
  /** Started for every order placed, named after the order. */
  readonly fraudCheckArn?: string;
  /** Started when a paid order is cancelled, named after the order. */
  readonly refundArn?: string;
}

/**
 * The orders service of the example: users and orders, each change written together with
 * its event in one transaction. Events about users carry the whole user snapshot.
 */
export class OrdersService {
  readonly #box: EventBox;
  readonly #workflows: OrdersWorkflows;

  constructor(box: EventBox, workflows: OrdersWorkflows = {}) {
    this.#box = box;
    this.#workflows = workflows;
  }

  /** Runs a command, re-reading and retrying when a concurrent change won the version race. */
  async execute(command: OrdersCommand): Promise<readonly EventEnvelope[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const tx = this.#box.transaction();
        await this.#plan(command, tx);
        return (await tx.commit()).events;
      } catch (error) {
        // A check on the user's version fails when the user changed meanwhile: a race too.
        const raced =
          error instanceof VersionConflictError ||
          error instanceof ConditionFailedError ||
          error instanceof TransactionConflictError;
        if (!raced || attempt >= MAX_ATTEMPTS) throw error;
        // Jittered backoff so that racing writers do not collide again at once.
        await new Promise((resolve) =>
          setTimeout(resolve, Math.random() * 20 * 2 ** Math.min(attempt, 5)),
        );
      }
    }
  }

  async #plan(c: OrdersCommand, tx: Transaction): Promise<void> {
    switch (c.command) {
      case 'createUser': {
        const user = { userId: c.userId, name: c.name, region: c.region, regionVersion: 0 };
        tx.put({ ...userKey(c.userId), ...user }, { expectedVersion: 0 });
        tx.publish({
          type: 'UserCreated',
          aggregate: { type: 'User', id: c.userId, version: 1 },
          payload: user,
        });
        return;
      }
      case 'renameUser':
      case 'changeRegion': {
        const user = await this.#user(c.userId);
        const changed =
          c.command === 'renameUser'
            ? { name: c.name }
            : {
                region: c.region,
                regionVersion: user.regionVersion + (c.region === user.region ? 0 : 1),
              };
        const next = {
          userId: user.userId,
          name: user.name,
          region: user.region,
          regionVersion: user.regionVersion,
          ...changed,
        };
        tx.update(userKey(c.userId), changed, { expectedVersion: user.version });
        tx.publish({
          type: c.command === 'renameUser' ? 'UserUpdated' : 'UserRegionChanged',
          aggregate: { type: 'User', id: c.userId, version: user.version + 1 },
          payload: next,
        });
        return;
      }
      case 'placeOrder': {
        const user = await this.#user(c.userId);
        tx.put(
          {
            ...orderKey(c.orderId),
            orderId: c.orderId,
            userId: c.userId,
            amount: c.amount,
            status: 'placed',
            paidTime: null,
            userRegionVersion: user.regionVersion,
          },
          { expectedVersion: 0 },
        );
        tx.check(userKey(c.userId), { attr: 'version', eq: user.version });
        tx.publish({
          type: 'OrderPlaced',
          aggregate: { type: 'Order', id: c.orderId, version: 1 },
          payload: { orderId: c.orderId, userId: c.userId, amount: c.amount },
        });
        if (this.#workflows.fraudCheckArn) {
          startExecution(tx, {
            engine: 'step-functions',
            target: this.#workflows.fraudCheckArn,
            name: `fraud-${c.orderId}`,
            input: { orderId: c.orderId, amount: c.amount },
          });
        }
        return;
      }
      case 'payOrder': {
        const order = await this.#order(c.orderId);
        if (order.status !== 'placed')
          throw new CommandRejectedError(`order ${c.orderId} is ${order.status}, not placed`);
        const user = await this.#user(order.userId);
        const paidTime = new Date().toISOString();
        tx.update(
          orderKey(c.orderId),
          { status: 'paid', paidTime, userRegionVersion: user.regionVersion },
          { expectedVersion: order.version },
        );
        // The score goes to the region the user is in when paying (case 4 of the article).
        tx.check(userKey(order.userId), { attr: 'version', eq: user.version });
        // Fulfilment starts with the payment: the job exists if and only if this commits.
        await startJob(
          tx,
          fulfilOrder,
          { orderId: c.orderId, userId: order.userId, amount: order.amount },
          { jobId: fulfilmentJobId(c.orderId) },
        );
        tx.publish({
          type: 'OrderPaid',
          aggregate: { type: 'Order', id: c.orderId, version: order.version + 1 },
          payload: {
            orderId: c.orderId,
            userId: order.userId,
            amount: order.amount,
            userRegionVersion: user.regionVersion,
          },
        });
        return;
      }
      case 'cancelOrder': {
        const order = await this.#order(c.orderId);
        if (order.status === 'canceled')
          throw new CommandRejectedError(`order ${c.orderId} is already canceled`);
        tx.update(orderKey(c.orderId), { status: 'canceled' }, { expectedVersion: order.version });
        tx.publish({
          type: 'OrderCanceled',
          aggregate: { type: 'Order', id: c.orderId, version: order.version + 1 },
          payload: {
            orderId: c.orderId,
            userId: order.userId,
            paidTime: order.paidTime,
            userRegionVersion: order.userRegionVersion,
          },
        });
        if (order.paidTime && this.#workflows.refundArn) {
          startExecution(tx, {
            engine: 'durable-function',
            target: this.#workflows.refundArn,
            name: `refund-${c.orderId}`,
            input: { orderId: c.orderId, amount: order.amount },
          });
        }
        return;
      }
    }
  }

  #user(userId: string): Promise<User> {
    return this.#existing<User>(userKey(userId), `user ${userId}`);
  }

  #order(orderId: string): Promise<Order> {
    return this.#existing<Order>(orderKey(orderId), `order ${orderId}`);
  }

  /** A consistent read of an item the command needs; its absence rejects the command. */
  async #existing<T>(key: Record<string, string>, what: string): Promise<T> {
    const { Item } = await this.#box.client.send(
      new GetCommand({
        TableName: this.#box.settings.layout.tableName,
        Key: key,
        ConsistentRead: true,
      }),
    );
    if (!Item) throw new CommandRejectedError(`${what} does not exist`);
    return Item as T;
  }
}
