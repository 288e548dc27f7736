import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_SOAK_FAULTS } from '../../infra/demo/faults.js';
import { runSoak } from '../../infra/demo/soak.js';

/**
 * The soak at CI size: the example app deployed with its fault-injecting relay and
 * user-score consumer (the middle of the chain); PutEvents throttled and partially failed,
 * consumers killed before and after their transactions, at 10 to 30 %, and a consumer bug
 * that rejects one region; few users, so concurrent writers share aggregates. Once quiet,
 * the repair: the bug fixed, then `eventbox dlq redrive` run as two processes at once; then
 * a relay outage past the stream's retention, repaired with `eventbox outbox replay`.
 * `npm run soak` runs it at full size, with a redrive killed half-way first.
 */
describe('Soak under faults, then quiet, then repaired', () => {
  it('loses nothing, applies nothing twice, publishes nothing uncommitted, dead-letters only with an injected or explained reason, and one redrive brings every letter home', async () => {
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
    process.stderr.write(`soak: repair ${JSON.stringify(report.repair)}\n`);
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
    // Before the repair, the only letters: entries EventBridge rejected for good and events
    // the consumer bug rejected (both injected), and events that waited for one of those.
    // One round of redrives brings every one home, and a further redrive finds nothing.
    const { repair } = report;
    expect(repair?.lettersBefore).toBeGreaterThan(0);
    expect(Object.keys(repair?.reasonsBefore ?? {})).toContainEqual(
      expect.stringContaining('unknown region xx (injected)'),
    );
    for (const reason of Object.keys(repair?.reasonsBefore ?? {}))
      expect(reason).toMatch(/\(injected\)|^Not yet: /);
    expect(repair).toMatchObject({ rounds: 1, lettersAfter: 0, lastRedriveSent: 0 });
    // A relay outage past the stream's retention loses the records of what was committed
    // meanwhile; an outbox replay over a window that overlaps delivered events brings them
    // home, every table of the relay, and the accounting below counts them.
    const outage = repair?.outage;
    expect(outage?.committed).toBeGreaterThan(0);
    expect(outage).toMatchObject({ appliedBeforeReplay: 0, replayExit: 0 });
    expect(outage?.replayPublished).toBeGreaterThan(outage?.committed ?? 0);
    // Every job held by a relay letter ran once redriven.
    expect(succeeded + failed + stalled).toBe(report.jobs.started);
    expect(heldInDeadLetterQueue).toBe(0);
    for (const reason of Object.keys(report.jobs.stalledReasons))
      expect(reason).toMatch(/\(injected\)/);
    for (const hop of report.hops) {
      // Every event applied, once; the applications seen in "handled" log lines or in what
      // a crashed process recorded. A few can be neither: switching the faults updates the
      // functions' configuration, and the emulator then stops warm workers mid-batch,
      // losing lines they had written.
      expect(hop.applied, hop.name).toBe(hop.expected);
      expect(hop.deadLettered, hop.name).toBe(0);
      expect(hop.logLinesLost, hop.name).toBeLessThanOrEqual(Math.ceil(0.05 * hop.applied));
      expect(hop.unexplainedNotYet, hop.name).toBe(0);
    }
  }, 900_000);
});
