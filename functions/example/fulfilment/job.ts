import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { defineJob, JobRunnerEnvironment } from '../../../lib/jobs/index.js';
import { add } from '../../../lib/producer/index.js';
import { ExternalServices } from './external.js';

let services: ExternalServices | undefined;
/** Created on first use: the orders service imports this module only to start the job. */
function external(): ExternalServices {
  services ??= new ExternalServices(
    DynamoDBDocumentClient.from(new DynamoDBClient({})),
    process.env[JobRunnerEnvironment.stepTableName] ?? '',
  );
  return services;
}

/** One fulfilment per order: a second start of the same order's job is refused. */
export const fulfilmentJobId = (orderId: string) => `fulfil-${orderId}`;

export const fulfilmentInput = z.object({
  orderId: z.string().min(1),
  userId: z.string().min(1),
  amount: z.number().int().positive(),
});

/** The work a fulfilment does outside its checkpoints, named for `FulfilmentHooks`. */
export type FulfilmentWork = 'charge' | 'email' | 'sms' | 'points';

export interface FulfilmentHooks {
  /** Called before each piece of work; what it throws fails that step or task (fault tests). */
  readonly before?: (work: FulfilmentWork) => void;
}

/**
 * Fulfils a paid order, started in the transaction that records the payment: reserve stock
 * (a write that commits with the step), charge (an external call with the step's
 * idempotency key), notify by email, SMS and loyalty points in parallel (the aggregator
 * moves on if one channel got through, and retries the failed ones otherwise), then ship.
 */
export function fulfilmentJob(hooks: FulfilmentHooks = {}) {
  const before = hooks.before ?? (() => {});
  return defineJob('fulfil-order', {
    input: fulfilmentInput,
    maxAttempts: 6,
    backoff: { baseSeconds: 1, capSeconds: 10 },
  })
    .step('reserve-stock', ({ input, ctx }) => {
      ctx.tx.put(
        { pk: `RESERVATION#${input.orderId}`, sk: 'RESERVATION', userId: input.userId, units: 1 },
        { expectedVersion: 0 },
      );
      ctx.tx.update({ pk: `RESERVED#${input.userId}`, sk: 'STOCK' }, { units: add(1) });
      return { units: 1 };
    })
    .step('charge', async ({ input, ctx }) => {
      before('charge');
      return { chargeId: await external().charge(input.amount, ctx.idempotencyKey) };
    })
    .parallel('notify', {
      tasks: {
        email: async ({ input, ctx }) => {
          before('email');
          await external().send('email', input.userId, ctx.idempotencyKey);
          return 'sent';
        },
        sms: async ({ input, ctx }) => {
          before('sms');
          await external().send('sms', input.userId, ctx.idempotencyKey);
          return 'sent';
        },
        points: ({ input, ctx }) => {
          before('points');
          ctx.tx.update({ pk: `LOYALTY#${input.userId}`, sk: 'POINTS' }, { points: add(10) });
          return 10;
        },
      },
      aggregate: ({ tasks }) => {
        const delivered = Object.entries(tasks).filter(([, t]) => t.state === 'succeeded');
        if (delivered.length > 0)
          return { continue: { channels: delivered.map(([name]) => name) } };
        return { retry: Object.keys(tasks) };
      },
      maxTaskAttempts: 3,
      maxRounds: 3,
    })
    .step('ship', ({ input, results, ctx }) => {
      ctx.tx.put(
        {
          pk: `SHIPMENT#${input.orderId}`,
          sk: 'SHIPMENT',
          chargeId: results.charge.chargeId,
          notified: results.notify.channels,
        },
        { expectedVersion: 0 },
      );
      return { shipped: true };
    });
}

/** The example's fulfilment job. */
export const fulfilOrder = fulfilmentJob();
