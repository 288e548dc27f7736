import type { EventOf, InboxContext, TypedEnvelope } from '../../../lib/consumer/index.js';
import type { ScoreChanged } from '../rewards/events.js';
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
    const opened = {
      userId: user.userId,
      region: user.region,
      regionVersion: user.regionVersion,
      score: 0,
    };
    ctx.tx.put(
      { ...regionKey(user.userId, user.regionVersion), ...opened },
      { expectedVersion: 0 },
    );
    publishScore(ctx, opened, 1);
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
  const score = region.score + paid.amount;
  ctx.tx.update(
    regionKey(paid.userId, paid.userRegionVersion),
    { score },
    { expectedVersion: region.version },
  );
  publishScore(ctx, { ...region, score }, region.version + 1);
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
      const score = Math.max(0, region.score - order.points);
      ctx.tx.update(
        regionKey(order.userId, order.regionVersion),
        { score },
        { expectedVersion: region.version },
      );
      publishScore(ctx, { ...region, score }, region.version + 1);
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

/**
 * Publishes the score of a user's region after a change, in the same transaction: the
 * rewards service reacts to it. Versioned per (user, region version), starting at 1 when
 * the region opens, so the rewards service can tell newer scores from older ones.
 */
function publishScore(
  ctx: InboxContext,
  region: Pick<LocalUserRegion, 'userId' | 'regionVersion' | 'region' | 'score'>,
  version: number,
): void {
  const score: ScoreChanged = {
    userId: region.userId,
    regionVersion: region.regionVersion,
    region: region.region,
    score: region.score,
  };
  ctx.tx.publish({
    type: 'ScoreChanged',
    aggregate: { type: 'UserScore', id: `${region.userId}/${region.regionVersion}`, version },
    payload: score,
  });
}
