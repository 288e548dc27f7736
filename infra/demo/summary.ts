import { percentile } from './stats.js';

/** What `npm run demo` prints. */
export interface DemoSummary {
  readonly operations: number;
  readonly rejectedOperations: number;
  readonly eventsWritten: number;
  readonly eventsPublished: number;
  readonly publishedTwice: number;
  readonly eventsForUserScore: number;
  readonly applied: number;
  readonly duplicatesAbsorbed: number;
  readonly staleSkipped: number;
  readonly notYetRetries: number;
  readonly deadLettered: number;
  /** Dead letters by kind of reason. */
  readonly deadLetterReasons: Readonly<Record<string, number>>;
  /** "Not yet" dead letters whose awaited event was not itself dead-lettered. */
  readonly unexplainedNotYet: number;
  readonly lost: number;
  readonly appliedTwice: number;
  /** Versions missing or repeated in any aggregate's committed events. */
  readonly versionGaps: number;
  /** Scores of the applied events equal what applying them once, in commit order, gives. */
  readonly scoresMatchInOrderReplay: boolean;
  /** What the relay logged of PutEvents failures (injected ones, in the soak). */
  readonly relayFaultsSeen: {
    readonly failedCalls: number;
    readonly rejectedEntries: Readonly<Record<string, number>>;
  };
  readonly writeToAppliedMs: { readonly p50: number; readonly p99: number };
  readonly seconds: number;
}

export function latency(pairs: ReadonlyArray<readonly [string, string]>): {
  p50: number;
  p99: number;
} {
  const samples = pairs
    .map(([written, applied]) => Date.parse(applied) - Date.parse(written))
    .sort((a, b) => a - b);
  return { p50: Math.round(percentile(samples, 50)), p99: Math.round(percentile(samples, 99)) };
}

export function formatSummary(s: DemoSummary): string {
  const rows: Array<[string, string | number]> = [
    [
      'business operations',
      `${s.operations} (${s.rejectedOperations} rejected by the orders service)`,
    ],
    ['events written', s.eventsWritten],
    ['events published', `${s.eventsPublished} (${s.publishedTwice} published twice)`],
    ['events for user-score', s.eventsForUserScore],
    ['applied exactly once', s.applied],
    ['duplicates absorbed', s.duplicatesAbsorbed],
    ['stale snapshots skipped', s.staleSkipped],
    ['"not yet" retries', s.notYetRetries],
    ['dead-lettered', s.deadLettered],
    ...Object.entries(s.deadLetterReasons).map(([reason, n]): [string, number] => [
      `  ${reason}`,
      n,
    ]),
    ['"not yet" dead letters not explained by a dead-lettered cause', s.unexplainedNotYet],
    ['lost', s.lost],
    ['applied twice', s.appliedTwice],
    ['version gaps', s.versionGaps],
    ['scores match in-order replay', s.scoresMatchInOrderReplay ? 'yes' : 'NO'],
    [
      'relay PutEvents failures seen',
      `${s.relayFaultsSeen.failedCalls} calls, ${
        Object.entries(s.relayFaultsSeen.rejectedEntries)
          .map(([code, n]) => `${n} ${code}`)
          .join(', ') || '0 entries'
      }`,
    ],
    [
      'write-to-applied latency',
      `p50 ${s.writeToAppliedMs.p50} ms, p99 ${s.writeToAppliedMs.p99} ms`,
    ],
    ['took', `${s.seconds} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
