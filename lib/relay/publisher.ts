import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { type BackoffOptions, jitteredDelay } from '../shared/backoff.js';
import { Limits } from '../shared/limits.js';
import { classifyEntryError, EntryErrorClass, isRetryableCallError } from './error-codes.js';
import type { PoisonRecord, PublishableRecord } from './stream-records.js';

/** A record the relay gives up on publishing, with why; it goes to the dead-letter queue. */
export interface DeadLetter {
  readonly record: PublishableRecord | PoisonRecord;
  readonly reason: string;
  readonly errorCode?: string;
}

/** What the publisher reports as it goes; the handler turns these into metrics and logs. */
export interface PublishObserver {
  onCall?(entries: number, failed: number, durationMs: number): void;
  onPublished?(records: readonly PublishableRecord[]): void;
  onEntryError?(
    record: PublishableRecord,
    code: string,
    errorClass: EntryErrorClass,
    message?: string,
  ): void;
  onCallError?(records: readonly PublishableRecord[], error: unknown): void;
  onGiveUp?(record: PublishableRecord, reason: string): void;
}

export interface PublisherSettings {
  readonly eventBridge: EventBridgeClient;
  /** PutEvents calls in flight at once. */
  readonly concurrency: number;
  /** Size limit of one entry and of one call. */
  readonly maxEntryBytes: number;
  /** Attempts per entry for retryable failures, the first included. */
  readonly maxAttempts: number;
  readonly backoff: BackoffOptions;
  /** Milliseconds left before the relay must answer. */
  readonly remainingMs: () => number;
  /** Stop starting work when less than this is left. */
  readonly safetyMarginMs: number;
  /** Dead-letters records; resolves one boolean per record: whether it is safely stored. */
  readonly deadLetter: (letters: readonly DeadLetter[]) => Promise<boolean[]>;
  readonly observer?: PublishObserver;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface PublishOutcome {
  readonly published: number;
  readonly deadLettered: number;
  /** Batch index of the first record that is neither published nor dead-lettered. */
  readonly firstUnpublishedIndex: number | undefined;
  readonly calls: number;
}

type State = 'pending' | 'inflight' | 'done' | 'failed';

interface Slot {
  readonly record: PublishableRecord;
  state: State;
  attempts: number;
  readyAt: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Publishes a batch of outbox records to EventBridge.
 *
 * - A call carries at most 10 entries and `maxEntryBytes` in all.
 * - Calls run concurrently up to `concurrency`, but never two calls carrying the same
 *   aggregate at once, and an aggregate's events go out in batch order, so one aggregate's
 *   events reach the bus in order. The one exception: EventBridge accepts or rejects each
 *   entry of a call on its own, so if it rejects an earlier event of an aggregate and accepts
 *   a later one of the same call, the retried earlier event arrives after it. Consumers
 *   order by version, never by arrival.
 * - Retryable entry errors are retried with capped, jittered backoff within the time left;
 *   entries rejected for good are dead-lettered; anything else stops the batch at the
 *   first record that is still unpublished, which the caller reports as the batch item
 *   failure, so nothing after it is lost or overtaken.
 */
export async function publishRecords(
  records: readonly PublishableRecord[],
  poison: readonly PoisonRecord[],
  settings: PublisherSettings,
): Promise<PublishOutcome> {
  const sleep = settings.sleep ?? defaultSleep;
  const random = settings.random ?? Math.random;
  const observer = settings.observer ?? {};
  let firstFailure = Number.POSITIVE_INFINITY;
  let published = 0;
  let deadLettered = 0;
  let calls = 0;

  const fail = (index: number) => {
    firstFailure = Math.min(firstFailure, index);
  };

  // Records that were never publishable go first, so that a failure to store them stops
  // the batch before anything after them is sent.
  if (poison.length > 0) {
    const stored = await settings.deadLetter(poison.map((p) => ({ record: p, reason: p.reason })));
    poison.forEach((p, i) => {
      if (stored[i]) deadLettered++;
      else fail(p.index);
    });
  }

  const slots: Slot[] = records.map((record) => ({
    record,
    state: 'pending',
    attempts: 0,
    readyAt: 0,
  }));
  const queues = new Map<string, Slot[]>();
  for (const slot of slots) {
    const queue = queues.get(slot.record.aggregateKey);
    if (queue) queue.push(slot);
    else queues.set(slot.record.aggregateKey, [slot]);
  }
  /**
   * Per aggregate, its events that may go next, in order: the pending ones up to the first
   * that is in flight, backing off or past the first failure, skipping those published. An
   * aggregate with an event in flight thus has none, so no two calls carry it at once.
   */
  const sendable = (now: number): Slot[][] => {
    const runs: Slot[][] = [];
    for (const queue of queues.values()) {
      while (queue[0] && queue[0].state === 'done') queue.shift();
      const run: Slot[] = [];
      for (const slot of queue) {
        if (slot.state === 'done') continue;
        if (slot.state !== 'pending' || slot.readyAt > now || slot.record.index >= firstFailure)
          break;
        run.push(slot);
      }
      if (run.length > 0) runs.push(run);
    }
    return runs.sort((a, b) => (a[0]?.record.index ?? 0) - (b[0]?.record.index ?? 0));
  };

  /** The earliest time a slot that is backing off may go again. */
  const nextRetryAt = (): number | undefined => {
    let next: number | undefined;
    for (const queue of queues.values()) {
      const head = queue.find((s) => s.state !== 'done');
      if (head?.state === 'pending' && head.record.index < firstFailure)
        next = Math.min(next ?? head.readyAt, head.readyAt);
    }
    return next;
  };

  /** Fills one call: whole prefixes of aggregates' runs, lowest stream position first. */
  const nextChunk = (runs: Slot[][]): Slot[] => {
    const chunk: Slot[] = [];
    let bytes = 0;
    for (const run of runs) {
      for (const slot of run) {
        if (
          chunk.length >= Limits.maxPutEventsEntries ||
          bytes + slot.record.bytes > settings.maxEntryBytes
        )
          break;
        chunk.push(slot);
        bytes += slot.record.bytes;
      }
      if (chunk.length >= Limits.maxPutEventsEntries) break;
    }
    return chunk;
  };

  const retryOrFail = (slot: Slot, reason: string) => {
    slot.attempts++;
    const delay = jitteredDelay(settings.backoff, slot.attempts - 1, random);
    if (
      slot.attempts >= settings.maxAttempts ||
      delay + settings.safetyMarginMs >= settings.remainingMs()
    ) {
      slot.state = 'failed';
      fail(slot.record.index);
      observer.onGiveUp?.(slot.record, `${reason} after ${slot.attempts} attempt(s)`);
      return;
    }
    slot.state = 'pending';
    slot.readyAt = Date.now() + delay;
  };

  const deadLetterSlot = async (slot: Slot, letter: DeadLetter) => {
    const [stored] = await settings.deadLetter([letter]);
    if (stored) {
      slot.state = 'done';
      deadLettered++;
    } else {
      slot.state = 'failed';
      fail(slot.record.index);
    }
  };

  const send = async (chunk: Slot[]) => {
    calls++;
    const started = performance.now();
    let results: PutEventsResultEntry[];
    try {
      const response = await settings.eventBridge.send(
        new PutEventsCommand({ Entries: chunk.map((s) => s.record.entry) }),
      );
      results = response.Entries ?? [];
      observer.onCall?.(chunk.length, response.FailedEntryCount ?? 0, performance.now() - started);
    } catch (error) {
      observer.onCallError?.(
        chunk.map((s) => s.record),
        error,
      );
      for (const slot of chunk) {
        if (isRetryableCallError(error))
          retryOrFail(slot, `PutEvents failed: ${(error as Error).message}`);
        else {
          slot.state = 'failed';
          fail(slot.record.index);
        }
      }
      return;
    }
    const accepted: PublishableRecord[] = [];
    const letters: Array<Promise<void>> = [];
    chunk.forEach((slot, i) => {
      const result = results[i];
      if (result?.EventId && !result.ErrorCode) {
        slot.state = 'done';
        accepted.push(slot.record);
        return;
      }
      const code = result?.ErrorCode ?? 'MissingResultEntry';
      const errorClass = result ? classifyEntryError(code) : EntryErrorClass.retryable;
      observer.onEntryError?.(slot.record, code, errorClass, result?.ErrorMessage);
      if (errorClass === EntryErrorClass.retryable) retryOrFail(slot, code);
      else if (errorClass === EntryErrorClass.poison) {
        letters.push(
          deadLetterSlot(slot, {
            record: slot.record,
            errorCode: code,
            reason: `EventBridge rejected the entry: ${code}${result?.ErrorMessage ? ` (${result.ErrorMessage})` : ''}`,
          }),
        );
      } else {
        slot.state = 'failed';
        fail(slot.record.index);
      }
    });
    published += accepted.length;
    if (accepted.length > 0) observer.onPublished?.(accepted);
    await Promise.all(letters);
  };

  const inflight = new Set<Promise<void>>();
  for (;;) {
    if (settings.remainingMs() <= settings.safetyMarginMs) {
      for (const slot of slots) {
        if (slot.state !== 'pending' || slot.record.index >= firstFailure) continue;
        slot.state = 'failed';
        fail(slot.record.index);
        observer.onGiveUp?.(slot.record, 'the invocation is running out of time');
      }
    } else {
      while (inflight.size < settings.concurrency) {
        const chunk = nextChunk(sendable(Date.now()));
        if (chunk.length === 0) break;
        for (const slot of chunk) slot.state = 'inflight';
        const task = send(chunk).finally(() => inflight.delete(task));
        inflight.add(task);
      }
    }
    const waitFor: Array<Promise<void>> = [...inflight];
    const retryAt = nextRetryAt();
    if (retryAt !== undefined && inflight.size < settings.concurrency) {
      waitFor.push(sleep(Math.max(0, retryAt - Date.now())));
    }
    if (waitFor.length === 0) break;
    await Promise.race(waitFor);
  }

  return {
    published,
    deadLettered,
    firstUnpublishedIndex: Number.isFinite(firstFailure) ? firstFailure : undefined,
    calls,
  };
}
