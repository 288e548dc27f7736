/**
 * The event the rewards service consumes, as the user-score service publishes it: the
 * score of one user in one region version after a change, versioned per (user, region
 * version).
 */
import * as z from 'zod/mini';

export const scoreChanged = z.object({
  userId: z.string().check(z.minLength(1)),
  regionVersion: z.int().check(z.gte(0)),
  region: z.string().check(z.minLength(1)),
  score: z.int().check(z.gte(0)),
});
export type ScoreChanged = z.infer<typeof scoreChanged>;

export const RewardsEvents = { ScoreChanged: scoreChanged } as const;

/** Points at which a user earns a reward, once per region version. */
export const REWARD_TIERS = [25, 50, 100] as const;
