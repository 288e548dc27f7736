/**
 * The rewards service's entities, in its own table (keys pk/sk):
 * - LocalScore `SCORE#<userId>#<regionVersion>` / `SCORE`: the newest score seen; `version`
 *   is the score's version, so older snapshots are skipped.
 * - Reward `REWARD#<userId>#<regionVersion>` / `TIER#<points>`: granted once, when any
 *   version of the score reaches the tier.
 */
export const scoreKey = (userId: string, regionVersion: number) => ({
  pk: `SCORE#${userId}#${regionVersion}`,
  sk: 'SCORE',
});
export const rewardKey = (userId: string, regionVersion: number, tier: number) => ({
  pk: `REWARD#${userId}#${regionVersion}`,
  sk: `TIER#${String(tier).padStart(6, '0')}`,
});

export interface Reward {
  readonly pk: string;
  readonly sk: string;
  readonly userId: string;
  readonly regionVersion: number;
  readonly tier: number;
  /** The score event that earned it. */
  readonly eventId: string;
  readonly version: number;
}
