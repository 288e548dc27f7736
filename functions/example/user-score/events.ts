/**
 * The events the user-score service consumes, as the orders service publishes them.
 * User events carry the whole user snapshot, so the score service can synchronize it.
 */
import { z } from 'zod';

export const userSnapshot = z.object({
  userId: z.string().min(1),
  name: z.string(),
  region: z.string().min(1),
  /** Starts at 0; increases by one each time the user's region changes. */
  regionVersion: z.number().int().min(0),
});
export type UserSnapshot = z.infer<typeof userSnapshot>;

export const orderPaid = z.object({
  orderId: z.string().min(1),
  userId: z.string().min(1),
  amount: z.number().int().positive(),
  /** The user's region version when the order was paid: the score goes to that region. */
  userRegionVersion: z.number().int().min(0),
});
export type OrderPaid = z.infer<typeof orderPaid>;

export const orderCanceled = z.object({
  orderId: z.string().min(1),
  userId: z.string().min(1),
  /** Set when the order had been paid before it was canceled. */
  paidTime: z.string().nullable(),
  userRegionVersion: z.number().int().min(0),
});
export type OrderCanceled = z.infer<typeof orderCanceled>;

export const UserScoreEvents = {
  UserCreated: userSnapshot,
  UserUpdated: userSnapshot,
  UserRegionChanged: userSnapshot,
  OrderPaid: orderPaid,
  OrderCanceled: orderCanceled,
} as const;
