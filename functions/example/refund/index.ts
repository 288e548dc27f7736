import { withDurableExecution } from '@aws/durable-execution-sdk-js';

/**
 * The example's refund, a Lambda durable function the orders service starts when a paid
 * order is cancelled: each step is checkpointed, and a replay after a crash skips those done.
 */
export const handler = withDurableExecution(
  async (event: { orderId: string; amount: number }, context) => {
    const refund = await context.step('refund', async () => ({
      refundId: `rf_${event.orderId}`,
      amount: event.amount,
    }));
    await context.step('notify', async () => `refund ${refund.refundId} of ${refund.amount} sent`);
    return refund;
  },
);
