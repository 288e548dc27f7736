import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_SOAK_FAULTS } from '../../infra/demo/faults.js';
import { runSoak } from '../../infra/demo/soak.js';

/**
 * The soak at CI size: the example app deployed with its fault-injecting relay and
 * consumer; PutEvents throttled and partially failed, consumers killed before and after
 * their transactions, at 10 to 30 %; few users, so concurrent writers share aggregates.
 * `npm run soak` runs it at full size.
 */
describe('Soak under faults, then quiet', () => {
  it('loses nothing, applies nothing twice, leaves no version gap, and dead-letters only with a reason', async () => {
    // Act
    const report = await runSoak({
      target: inject('eventbox'),
      operations: 150,
      maxUsers: 4,
      seed: 3,
      faults: DEFAULT_SOAK_FAULTS,
    });

    // Assess
    expect(report).toMatchObject({
      lost: 0,
      appliedTwice: 0,
      versionGaps: 0,
      scoresMatchInOrderReplay: true,
    });
    const relayFailures =
      report.relayFaultsSeen.failedCalls +
      Object.values(report.relayFaultsSeen.rejectedEntries).reduce((a, b) => a + b, 0);
    expect(relayFailures).toBeGreaterThan(0);
    expect(report.applied + report.deadLettered).toBeGreaterThanOrEqual(report.eventsForUserScore);
    for (const reason of Object.keys(report.deadLetterReasons))
      expect(reason).not.toMatch(/unknown/);
  }, 900_000);
});
