import { z } from 'zod';

/** The events the stock service consumes, by type. */
export const stockEvents = {
  OrderPlaced: z.object({ orderId: z.string(), sku: z.string(), quantity: z.number().int() }),
};
