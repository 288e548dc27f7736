import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/**
 * A new event id: a ULID, unique and lexicographically sortable by creation time.
 * Monotonic within one process, so events created in the same millisecond still sort in order.
 */
export function newEventId(now: number = Date.now()): string {
  return nextUlid(now);
}

/** Crockford base32, 26 characters, first character at most 7 (48-bit time). */
export const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
