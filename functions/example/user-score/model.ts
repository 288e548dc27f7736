/**
 * The user-score service's local entities, in its own table (keys pk/sk):
 * - LocalUser `USER#<id>` / `USER`: the synchronized user snapshot; `version` is the
 *   user's EntityVersion (case 5 of the disordering article).
 * - LocalUserRegion `USER#<id>` / `REGION#<regionVersion>`: the score earned while the
 *   user was in one region (case 4): a region change starts a new one at 0.
 * - LocalOrder `ORDER#<id>` / `ORDER`: what was applied for an order, so a cancellation can
 *   wait for its payment (case 3).
 */
export const userKey = (userId: string) => ({ pk: `USER#${userId}`, sk: 'USER' });
export const regionKey = (userId: string, regionVersion: number) => ({
  pk: `USER#${userId}`,
  sk: `REGION#${String(regionVersion).padStart(8, '0')}`,
});
export const orderKey = (orderId: string) => ({ pk: `ORDER#${orderId}`, sk: 'ORDER' });

export interface LocalUserRegion {
  readonly pk: string;
  readonly sk: string;
  readonly userId: string;
  readonly region: string;
  readonly regionVersion: number;
  readonly score: number;
  readonly version: number;
}

export interface LocalOrder {
  readonly pk: string;
  readonly sk: string;
  readonly userId: string;
  readonly hasPaidEventHandled: boolean;
  readonly points: number;
  readonly regionVersion: number;
  readonly canceled: boolean;
  readonly version: number;
}
