import { percentile } from '../../test/bench/stats.js';

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
  readonly lost: number;
  readonly appliedTwice: number;
  readonly scoresMatchInOrderReplay: boolean;
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
    ['lost', s.lost],
    ['applied twice', s.appliedTwice],
    ['scores match in-order replay', s.scoresMatchInOrderReplay ? 'yes' : 'NO'],
    [
      'write-to-applied latency',
      `p50 ${s.writeToAppliedMs.p50} ms, p99 ${s.writeToAppliedMs.p99} ms`,
    ],
    ['took', `${s.seconds} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
