/**
 * The Lambda task of the example's fraud-check state machine, which the orders service
 * starts for every order it places: a verdict from the amount.
 */
export async function handler(input: { orderId: string; amount: number }) {
  return { orderId: input.orderId, risk: input.amount > 45 ? 'review' : 'low' };
}
