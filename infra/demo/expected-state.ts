import type { EventEnvelope } from '../../lib/producer/index.js';

/**
 * The user-score state the events imply when applied once each, in commit order: the
 * score per user and region version. An independent model of the service, used to check
 * that what the deployed consumer ended with is what in-order delivery would give.
 */
export function expectedScores(events: readonly EventEnvelope[]): Map<string, number> {
  const scores = new Map<string, number>();
  const paid = new Map<string, { key: string; points: number }>();
  const ordered = [...events].sort((a, b) => a.id.localeCompare(b.id));
  for (const event of ordered) {
    const p = event.payload as Record<string, unknown>;
    switch (event.type) {
      // A region version starts with the event that opens it; a rename opens nothing.
      case 'UserCreated':
      case 'UserRegionChanged': {
        const key = `${p.userId}|${p.regionVersion}`;
        if (!scores.has(key)) scores.set(key, 0);
        break;
      }
      case 'OrderPaid': {
        const key = `${p.userId}|${p.userRegionVersion}`;
        scores.set(key, (scores.get(key) ?? 0) + (p.amount as number));
        paid.set(p.orderId as string, { key, points: p.amount as number });
        break;
      }
      case 'OrderCanceled': {
        const order = paid.get(p.orderId as string);
        if (order && p.paidTime !== null)
          scores.set(order.key, Math.max(0, (scores.get(order.key) ?? 0) - order.points));
        break;
      }
    }
  }
  return scores;
}

/** Score change payloads, as the user-score service publishes them. */
interface ScoreChangedPayload {
  readonly userId: string;
  readonly regionVersion: number;
  readonly score: number;
}

/**
 * The rewards the score changes imply when applied once each, in order: every tier a
 * user's score in a region version reached at any version. Keys `user|regionVersion|tier`.
 */
export function expectedRewards(
  events: readonly EventEnvelope[],
  tiers: readonly number[],
): Set<string> {
  const rewards = new Set<string>();
  for (const event of events) {
    const p = event.payload as ScoreChangedPayload;
    for (const tier of tiers)
      if (p.score >= tier) rewards.add(`${p.userId}|${p.regionVersion}|${tier}`);
  }
  return rewards;
}
