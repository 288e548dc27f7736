import type { HopSummary } from './hops.js';
import type { JobsSummary } from './jobs-report.js';
import type { RepairReport } from './repair.js';
import { percentile } from './stats.js';

/** What `npm run demo` prints: the whole chain, then each hop. */
export interface DemoSummary {
  readonly operations: number;
  readonly rejectedOperations: number;
  /** Events the orders service committed. */
  readonly eventsWritten: number;
  /** orders → user-score, then user-score → rewards. */
  readonly hops: readonly HopSummary[];
  /** Totals over the hops. */
  readonly lost: number;
  readonly appliedTwice: number;
  readonly deadLettered: number;
  /** Events on the bus that no committed transaction wrote. */
  readonly publishedWithoutCommit: number;
  /** Versions missing or repeated in any aggregate's committed events, of every service. */
  readonly versionGaps: number;
  /** Scores of the applied events equal what applying them once, in commit order, gives. */
  readonly scoresMatchInOrderReplay: boolean;
  /** Rewards granted equal those applying the applied score changes once, in order, gives. */
  readonly rewardsMatchInOrderReplay: boolean;
  readonly rewardsGranted: number;
  /** What the relay logged of PutEvents failures (injected ones, in the soak). */
  readonly relayFaultsSeen: {
    readonly failedCalls: number;
    readonly rejectedEntries: Readonly<Record<string, number>>;
  };
  /** From the orders commit to the user-score commit. */
  readonly writeToAppliedMs: Latency;
  /** From the orders commit to the rewards commit of the score change it caused. */
  readonly chainWriteToAppliedMs: Latency;
  /** The fulfilment jobs the payments started. */
  readonly jobs: JobsSummary;
  readonly seconds: number;
  /** The soak's repair phase, when it ran: the accounting above is after it. */
  readonly repair?: RepairReport;
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly samples: number;
}

export function latency(pairs: ReadonlyArray<readonly [string, string]>): Latency {
  const samples = pairs
    .map(([written, applied]) => Date.parse(applied) - Date.parse(written))
    .sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(samples, 50)),
    p99: Math.round(percentile(samples, 99)),
    samples: samples.length,
  };
}

type Row = [string, string | number];

function hopRows(h: HopSummary): Row[] {
  return [
    [h.name, ''],
    ['  events expected', h.expected],
    ['  published', `${h.published} (${h.publishedTwice} published twice)`],
    ['  published without a commit', h.publishedWithoutCommit],
    ['  applied exactly once (by inbox record)', h.applied],
    [
      '    of which also in the consumer log',
      `${h.appliedAndLogged} (${h.logLinesLost} log lines lost)`,
    ],
    ['  duplicates absorbed', h.duplicatesAbsorbed],
    ['  stale snapshots skipped', h.staleSkipped],
    ['  "not yet" retries', h.notYetRetries],
    ['  conflict retries', h.conflictRetries],
    ['  dead-lettered', h.deadLettered],
    ['  dead-lettered, then applied by a retry', h.deadLetteredThenApplied],
    ...Object.entries(h.deadLetterReasons).map(([reason, n]): Row => [`    ${reason}`, n]),
    ['  "not yet" dead letters not explained', h.unexplainedNotYet],
    ['  lost', h.lost],
    ['  applied twice', h.appliedTwice],
  ];
}

const ms = (l: Latency) => `p50 ${l.p50} ms, p99 ${l.p99} ms (${l.samples} events)`;

export function formatSummary(s: DemoSummary): string {
  const rows: Row[] = [
    [
      'business operations',
      `${s.operations} (${s.rejectedOperations} rejected by the orders service)`,
    ],
    ['events written by orders', s.eventsWritten],
    ...s.hops.flatMap(hopRows),
    ['chain', ''],
    ['  lost', s.lost],
    ['  applied twice', s.appliedTwice],
    ['  version gaps', s.versionGaps],
    ['  scores match in-order replay', s.scoresMatchInOrderReplay ? 'yes' : 'NO'],
    [
      '  rewards match in-order replay',
      `${s.rewardsMatchInOrderReplay ? 'yes' : 'NO'} (${s.rewardsGranted} granted)`,
    ],
    [
      '  relay PutEvents failures seen',
      `${s.relayFaultsSeen.failedCalls} calls, ${
        Object.entries(s.relayFaultsSeen.rejectedEntries)
          .map(([code, n]) => `${n} ${code}`)
          .join(', ') || '0 entries'
      }`,
    ],
    ['fulfilment jobs', ''],
    ['  started with a payment', s.jobs.started],
    ['  succeeded', s.jobs.succeeded],
    ['  failed', s.jobs.failed],
    ['  stalled', s.jobs.stalled],
    ...Object.entries(s.jobs.stalledReasons).map(([reason, n]): Row => [`    ${reason}`, n]),
    ['  held by a relay dead letter (redrivable)', s.jobs.heldInDeadLetterQueue],
    ...Object.entries(s.jobs.heldReasons).map(([reason, n]): Row => [`    ${reason}`, n]),
    ['  unfinished', s.jobs.unfinished],
    ['  lost', s.jobs.lost],
    ['  step retries', s.jobs.stepRetries],
    ['  task retries', `${s.jobs.taskRetries} (${s.jobs.extraRounds} extra rounds)`],
    ['  effects applied twice', s.jobs.effectsAppliedTwice],
    [
      '  external effects (once per key)',
      `${s.jobs.externalEffects.charges} charges, ${s.jobs.externalEffects.notifications} notifications`,
    ],
    ...repairRows(s.repair),
    ['timing', ''],
    ['  orders → user-score latency', ms(s.writeToAppliedMs)],
    ['  orders → rewards latency', ms(s.chainWriteToAppliedMs)],
    ['  took', `${s.seconds} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`.trimEnd()).join('\n');
}

function repairRows(r: RepairReport | undefined): Row[] {
  if (!r) return [];
  return [
    ['repair (the fix, then eventbox dlq redrive)', ''],
    ['  letters before', r.lettersBefore],
    ...Object.entries(r.reasonsBefore).map(([reason, n]): Row => [`    ${reason}`, n]),
    ['  sends failed (throttled calls, lost PutEvents answers)', `${r.sendFailures * 100} %`],
    ['  redrives killed half-way', r.killedRedrives],
    ['  rounds needed (two redrives at once each)', r.rounds],
    ['  letters after', r.lettersAfter],
    ...Object.entries(r.reasonsAfter).map(([reason, n]): Row => [`    ${reason}`, n]),
    ['  a further redrive sent', r.lastRedriveSent],
    ['  relay outage past stream retention: events committed', r.outage.committed],
    ['    applied before the replay (records lost)', r.outage.appliedBeforeReplay],
    [
      '    outbox replay (window from before the outage)',
      `${r.outage.replayFound} found, ${r.outage.replayPublished} published, ${r.outage.overlapSeconds} s of overlap, exit ${r.outage.replayExit}`,
    ],
  ];
}

/** Whether a run kept every guarantee: what the demo and the soak exit with. */
export function guaranteesHeld(s: DemoSummary): boolean {
  return (
    s.lost === 0 &&
    s.appliedTwice === 0 &&
    s.publishedWithoutCommit === 0 &&
    s.versionGaps === 0 &&
    s.scoresMatchInOrderReplay &&
    s.rewardsMatchInOrderReplay &&
    s.jobs.lost === 0 &&
    s.jobs.effectsAppliedTwice === 0 &&
    s.jobs.unfinished === 0 &&
    (s.repair === undefined ||
      (s.repair.rounds <= 1 && s.repair.lettersAfter === 0 && s.repair.outage.replayExit === 0))
  );
}
