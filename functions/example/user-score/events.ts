/**
 * The events the user-score service consumes, as the orders service publishes them.
 * User events carry the whole user snapshot, so the score service can synchronize it.
 * Any Standard Schema library works; zod/mini keeps the function's bundle small.
 */
import * as z from 'zod/mini';

export const userSnapshot = z.object({
  userId: z.string().check(z.minLength(1)),
  name: z.string(),
  region: z.string().check(z.minLength(1)),
  /** Starts at 0; increases by one each time the user's region changes. */
  regionVersion: z.int().check(z.gte(0)),
});
export type UserSnapshot = z.infer<typeof userSnapshot>;

export const orderPaid = z.object({
  orderId: z.string().check(z.minLength(1)),
  userId: z.string().check(z.minLength(1)),
  amount: z.int().check(z.positive()),
  /** The user's region version when the order was paid: the score goes to that region. */
  userRegionVersion: z.int().check(z.gte(0)),
});
export type OrderPaid = z.infer<typeof orderPaid>;

export const orderCanceled = z.object({
  orderId: z.string().check(z.minLength(1)),
  userId: z.string().check(z.minLength(1)),
  /** Set when the order had been paid before it was canceled. */
  paidTime: z.nullable(z.string()),
  userRegionVersion: z.int().check(z.gte(0)),
});
export type OrderCanceled = z.infer<typeof orderCanceled>;

export const UserScoreEvents = {
  UserCreated: userSnapshot,
  UserUpdated: userSnapshot,
  UserRegionChanged: userSnapshot,
  OrderPaid: orderPaid,
  OrderCanceled: orderCanceled,
} as const;
