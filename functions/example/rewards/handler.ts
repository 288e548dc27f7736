import type { EventOf, InboxContext } from '../../../lib/consumer/index.js';
import { REWARD_TIERS, type RewardsEvents } from './events.js';
import { type Reward, rewardKey, scoreKey } from './model.js';

/**
 * The rewards service: a user earns a reward when their score in a region reaches a tier,
 * once. Score events arrive late, early or twice: the newest score is kept by version, and
 * a tier is granted by whichever event first shows it reached, so the rewards are those
 * in-order delivery would grant.
 */
export async function handleRewardsEvent(
  event: EventOf<typeof RewardsEvents>,
  ctx: InboxContext,
): Promise<void> {
  const { userId, regionVersion, region, score } = event.payload;
  ctx.tx.synchronize(
    { ...scoreKey(userId, regionVersion), userId, regionVersion, region, score },
    { version: event.aggregate.version },
  );
  for (const tier of REWARD_TIERS) {
    if (score < tier) continue;
    const key = rewardKey(userId, regionVersion, tier);
    if (await ctx.get<Reward>(key)) continue;
    // A concurrent delivery granting the same tier makes this a conflict; the retry finds it granted.
    ctx.tx.put({ ...key, userId, regionVersion, tier, eventId: event.id }, { expectedVersion: 0 });
  }
}
