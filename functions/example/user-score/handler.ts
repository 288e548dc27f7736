import type { EventOf, InboxContext, TypedEnvelope } from '../../../lib/consumer/index.js';
import type { OrderCanceled, OrderPaid, UserScoreEvents, UserSnapshot } from './events.js';
import { type LocalOrder, type LocalUserRegion, orderKey, regionKey, userKey } from './model.js';

/**
 * The user-score service: users earn points for paid orders, lose them when the order is
 * canceled, and start from zero in each new region. Every event may arrive late, early or
 * twice; the handler only has to say what each event means.
 */
export async function handleUserScoreEvent(
  event: EventOf<typeof UserScoreEvents>,
  ctx: InboxContext,
): Promise<void> {
  switch (event.type) {
    case 'UserCreated':
    case 'UserUpdated':
    case 'UserRegionChanged':
      return applyUser(event, ctx);
    case 'OrderPaid':
      return applyPaid(event, ctx);
    case 'OrderCanceled':
      return applyCanceled(event, ctx);
  }
}

/** Cases 1, 4 and 5: keep the newest user snapshot; a new region version starts at zero. */
async function applyUser(
  event: TypedEnvelope<'UserCreated' | 'UserUpdated' | 'UserRegionChanged', UserSnapshot>,
  ctx: InboxContext,
): Promise<void> {
  const user = event.payload;
  ctx.tx.synchronize(
    {
      ...userKey(user.userId),
      userId: user.userId,
      name: user.name,
      region: user.region,
      regionVersion: user.regionVersion,
    },
    { version: event.aggregate.version },
  );
  // Only the events that start a region version open it, so no two deliveries race to create it.
  if (event.type === 'UserUpdated') return;
  const region = await ctx.get(regionKey(user.userId, user.regionVersion));
  if (!region) {
    ctx.tx.put(
      {
        ...regionKey(user.userId, user.regionVersion),
        userId: user.userId,
        region: user.region,
        regionVersion: user.regionVersion,
        score: 0,
      },
      { expectedVersion: 0 },
    );
  }
}

/** Case 2: points go to the region the order was paid in, once that region is known. */
async function applyPaid(
  event: TypedEnvelope<'OrderPaid', OrderPaid>,
  ctx: InboxContext,
): Promise<void> {
  const paid = event.payload;
  const region = await ctx.get<LocalUserRegion>(regionKey(paid.userId, paid.userRegionVersion));
  if (!region)
    ctx.notYet(`user ${paid.userId} in region version ${paid.userRegionVersion} is not known yet`);
  const order = await ctx.get<LocalOrder>(orderKey(paid.orderId));
  ctx.tx.update(
    regionKey(paid.userId, paid.userRegionVersion),
    { score: region.score + paid.amount },
    { expectedVersion: region.version },
  );
  ctx.tx.put(
    {
      ...orderKey(paid.orderId),
      userId: paid.userId,
      hasPaidEventHandled: true,
      points: paid.amount,
      regionVersion: paid.userRegionVersion,
      canceled: order?.canceled ?? false,
    },
    { expectedVersion: order?.version ?? 0 },
  );
}

/** Case 3: a cancellation of a paid order waits for the payment, then takes its points back. */
async function applyCanceled(
  event: TypedEnvelope<'OrderCanceled', OrderCanceled>,
  ctx: InboxContext,
): Promise<void> {
  const canceled = event.payload;
  const order = await ctx.get<LocalOrder>(orderKey(canceled.orderId));
  if (canceled.paidTime !== null && !order?.hasPaidEventHandled) {
    ctx.notYet(`the payment of order ${canceled.orderId} is not handled yet`);
  }
  if (order?.hasPaidEventHandled) {
    const region = await ctx.get<LocalUserRegion>(regionKey(order.userId, order.regionVersion));
    if (region) {
      ctx.tx.update(
        regionKey(order.userId, order.regionVersion),
        { score: Math.max(0, region.score - order.points) },
        { expectedVersion: region.version },
      );
    }
  }
  ctx.tx.put(
    {
      ...orderKey(canceled.orderId),
      userId: canceled.userId,
      hasPaidEventHandled: order?.hasPaidEventHandled ?? false,
      points: order?.points ?? 0,
      regionVersion: order?.regionVersion ?? canceled.userRegionVersion,
      canceled: true,
    },
    { expectedVersion: order?.version ?? 0 },
  );
}
