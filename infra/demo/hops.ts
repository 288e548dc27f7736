import type { EventEnvelope } from '../../lib/producer/index.js';
import type { ConsumerLogFacts } from './observe.js';

/** A dead letter of any queue the demo reads, by the event it holds. */
export interface Letter {
  readonly eventId: string | undefined;
  readonly reason: string;
  /** The letter as it was sent, to find what else it names (a job id, say). */
  readonly body: string;
}

/** What happened to the events of one hop: one service's events, one consumer. */
export interface HopSummary {
  readonly name: string;
  /** Events committed that this hop's consumer subscribes to. */
  readonly expected: number;
  /** Of those, seen on the bus. */
  readonly published: number;
  readonly publishedTwice: number;
  /** Seen on the bus for this run although no committed transaction wrote them. */
  readonly publishedWithoutCommit: number;
  /**
   * Applied, each counted from its inbox record: one per event, written in the transaction
   * of the event's effect, so a second application fails its condition and commits nothing.
   */
  readonly applied: number;
  /** Of those, also logged as handled by the consumer: the logs as a second witness. */
  readonly appliedAndLogged: number;
  readonly duplicatesAbsorbed: number;
  readonly staleSkipped: number;
  readonly notYetRetries: number;
  readonly conflictRetries: number;
  /** Events dead-lettered and never applied. */
  readonly deadLettered: number;
  /**
   * Events dead-lettered and applied too: the relay and the consumer dead-letter at least
   * once, so a retried batch may publish what an earlier attempt dead-lettered; redriving
   * such a letter is absorbed by the inbox.
   */
  readonly deadLetteredThenApplied: number;
  /** Dead letters by kind of reason. */
  readonly deadLetterReasons: Readonly<Record<string, number>>;
  /** "Not yet" dead letters whose awaited event was not itself dead-lettered. */
  readonly unexplainedNotYet: number;
  readonly lost: number;
  readonly appliedTwice: number;
  /**
   * Applied events (their inbox records say so) whose "handled" log line is missing, and
   * not because an injected crash killed the process that applied them: lines the
   * emulator's log delivery lost. Accounted for by their inbox records.
   */
  readonly logLinesLost: number;
  /** The first few of them, to look for in the logs. */
  readonly logLinesLostIds: readonly string[];
}

export interface HopInput {
  readonly name: string;
  /** Every event the producing service committed in this run. */
  readonly committed: readonly EventEnvelope[];
  /** The ones the consumer subscribes to. */
  readonly consumed: readonly EventEnvelope[];
  /** Ids of this run's events from this source, in the order the bus tap saw them. */
  readonly audited: readonly string[];
  /** Event id → when the consumer applied it. */
  readonly applied: ReadonlyMap<string, string>;
  readonly letters: readonly Letter[];
  readonly facts: ConsumerLogFacts;
  /** Events a process had committed or in flight when an injected crash killed it. */
  readonly crashRecorded?: ReadonlySet<string>;
  /** The event a consumed event waits for ("not yet"), if any. */
  readonly predecessorOf?: (event: EventEnvelope) => EventEnvelope | undefined;
}

/** The kind of a dead-letter reason, with the event-specific details left out. */
export function reasonKind(reason: string): string {
  return reason
    .replace(/\b[0-9A-HJKMNP-TV-Z]{26}\b/g, '<id>')
    .replace(/[0-9a-f]{8}-o\d+/g, '<order>')
    .replace(/[0-9a-f]{8}-u\d+(\/\d+)?/g, '<user>')
    .replace(/after \d+ attempts/, 'after N attempts');
}

/** Accounts for every event of one hop: published, applied, dead-lettered or lost. */
export function hopSummary(input: HopInput): HopSummary {
  const committed = new Set(input.committed.map((e) => e.id));
  const deadLettered = new Set(
    input.letters.flatMap((l) => (l.eventId && committed.has(l.eventId) ? [l.eventId] : [])),
  );
  const published = new Set(input.audited.filter((id) => committed.has(id)));
  const lostAtRelay = input.committed.filter(
    (e) => !published.has(e.id) && !deadLettered.has(e.id),
  );
  const lostAtConsumer = input.consumed.filter(
    (e) => !input.applied.has(e.id) && !deadLettered.has(e.id),
  );
  const consumedIds = new Set(input.consumed.map((e) => e.id));
  const ownLetters = input.letters.filter((l) => l.eventId && consumedIds.has(l.eventId));
  const lettered = new Set(ownLetters.map((l) => l.eventId));
  const deadLetterReasons: Record<string, number> = {};
  for (const letter of ownLetters) {
    const kind = reasonKind(letter.reason);
    deadLetterReasons[kind] = (deadLetterReasons[kind] ?? 0) + 1;
  }
  const byId = new Map(input.committed.map((e) => [e.id, e]));
  const unexplainedNotYet = ownLetters.filter((l) => {
    if (!l.reason.startsWith('Not yet') || !l.eventId) return false;
    const event = byId.get(l.eventId);
    const predecessor = event && input.predecessorOf?.(event);
    return !predecessor || !deadLettered.has(predecessor.id);
  }).length;
  const handledLines = input.consumed.map((e) => input.facts.handled.get(e.id) ?? 0);
  const logLinesLost = input.consumed.filter(
    (e) =>
      input.applied.has(e.id) && !input.facts.handled.has(e.id) && !input.crashRecorded?.has(e.id),
  );
  return {
    name: input.name,
    expected: input.consumed.length,
    published: input.consumed.filter((e) => published.has(e.id)).length,
    publishedTwice: input.audited.filter(
      (id, i) => committed.has(id) && input.audited.indexOf(id) !== i,
    ).length,
    publishedWithoutCommit: new Set(input.audited.filter((id) => !committed.has(id))).size,
    applied: input.consumed.filter((e) => input.applied.has(e.id)).length,
    appliedAndLogged: input.consumed.filter(
      (e) => input.applied.has(e.id) && input.facts.handled.has(e.id),
    ).length,
    duplicatesAbsorbed: input.facts.duplicates,
    staleSkipped: input.facts.staleSkipped,
    notYetRetries: input.facts.notYetRetries,
    conflictRetries: input.facts.conflictRetries,
    deadLettered: input.consumed.filter((e) => lettered.has(e.id) && !input.applied.has(e.id))
      .length,
    deadLetteredThenApplied: input.consumed.filter(
      (e) => lettered.has(e.id) && input.applied.has(e.id),
    ).length,
    deadLetterReasons,
    unexplainedNotYet,
    lost: new Set([...lostAtRelay, ...lostAtConsumer].map((e) => e.id)).size,
    appliedTwice: handledLines.filter((n) => n > 1).length,
    logLinesLost: logLinesLost.length,
    logLinesLostIds: logLinesLost.slice(0, 10).map((e) => e.id),
  };
}

/** Every aggregate's committed versions must run 1, 2, 3... with no gap and no repeat. */
export function versionGaps(events: readonly EventEnvelope[]): number {
  const byAggregate = new Map<string, number[]>();
  for (const e of events) {
    const key = `${e.aggregate.type}#${e.aggregate.id}`;
    byAggregate.set(key, [...(byAggregate.get(key) ?? []), e.aggregate.version]);
  }
  let gaps = 0;
  for (const versions of byAggregate.values()) {
    const sorted = [...versions].sort((a, b) => a - b);
    sorted.forEach((v, i) => {
      if (v !== i + 1) gaps++;
    });
  }
  return gaps;
}
