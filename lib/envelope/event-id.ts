import { monotonicFactory, type ULIDFactory } from 'ulid';

export { ULID_PATTERN } from './ulid-pattern.js';

let nextUlid: ULIDFactory | undefined;

/**
 * A new event id: a ULID, unique and lexicographically sortable by creation time.
 * Monotonic within one process, so events created in the same millisecond still sort in order.
 * The factory is made on the first id, so code that only reads events never loads it.
 */
export function newEventId(now: number = Date.now()): string {
  nextUlid ??= monotonicFactory();
  return nextUlid(now);
}
