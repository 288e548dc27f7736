import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_SOAK_FAULTS } from '../../infra/demo/faults.js';
import { runSoak } from '../../infra/demo/soak.js';

/**
 * The soak at CI size: the example app deployed with its fault-injecting relay and
 * user-score consumer (the middle of the chain); PutEvents throttled and partially failed,
 * consumers killed before and after their transactions, at 10 to 30 %; few users, so
 * concurrent writers share aggregates. `npm run soak` runs it at full size.
 */
describe('Soak under faults, then quiet', () => {
  it('loses nothing, applies nothing twice, publishes nothing uncommitted, and dead-letters only with an injected or explained reason', async () => {
    // Act
    const report = await runSoak({
      target: inject('eventbox'),
      operations: 150,
      maxUsers: 4,
      seed: 3,
      faults: DEFAULT_SOAK_FAULTS,
    });

    // Assess
    process.stderr.write(`soak: relay partial failures went through ${report.relayFailurePath}\n`);
    expect(report).toMatchObject({
      lost: 0,
      appliedTwice: 0,
      publishedWithoutCommit: 0,
      versionGaps: 0,
      scoresMatchInOrderReplay: true,
      rewardsMatchInOrderReplay: true,
    });
    const relayFailures =
      report.relayFaultsSeen.failedCalls +
      Object.values(report.relayFaultsSeen.rejectedEntries).reduce((a, b) => a + b, 0);
    expect(relayFailures).toBeGreaterThan(0);
    // Jobs under runner crashes and failing steps and tasks: none lost, none unfinished,
    // no effect twice; a stalled job says why.
    expect(report.jobs.started).toBeGreaterThan(0);
    expect(report.jobs).toMatchObject({ lost: 0, unfinished: 0, effectsAppliedTwice: 0 });
    const { succeeded, failed, stalled, heldInDeadLetterQueue } = report.jobs;
    expect(succeeded + failed + stalled + heldInDeadLetterQueue).toBe(report.jobs.started);
    for (const reason of Object.keys(report.jobs.stalledReasons))
      expect(reason).toMatch(/\(injected\)/);
    // A job whose message EventBridge rejected for good (injected) waits in the relay's
    // dead-letter queue for a redrive; nothing else may hold one.
    for (const reason of Object.keys(report.jobs.heldReasons))
      expect(reason).toMatch(/\(injected\)/);
    for (const hop of report.hops) {
      // Every event applied or dead-lettered, most of them applied, and the applications
      // seen in "handled" log lines or in what a crashed process recorded. A few can be
      // neither: switching the faults updates the functions' configuration, and the
      // emulator then stops warm workers mid-batch, losing lines they had written.
      expect(hop.applied + hop.deadLettered, hop.name).toBe(hop.expected);
      expect(hop.applied, hop.name).toBeGreaterThanOrEqual(0.8 * hop.expected);
      expect(hop.logLinesLost, hop.name).toBeLessThanOrEqual(Math.ceil(0.05 * hop.applied));
      expect(hop.unexplainedNotYet, hop.name).toBe(0);
      // The only dead letters: entries EventBridge rejected for good (injected), and events
      // that waited for one of those.
      for (const reason of Object.keys(hop.deadLetterReasons))
        expect(reason, hop.name).toMatch(/\(injected\)|^Not yet: /);
    }
  }, 900_000);
});
