export type { RelayDeadLetterMessage } from '../shared/dead-letters.js';
export { deadLetterBody } from './dead-letter.js';
export { RelayEnvironment, relayOptionsFromEnvironment } from './environment.js';
export { classifyEntryError, EntryErrorClass } from './error-codes.js';
export { createRelayHandler, type RelayHandler } from './handler.js';
export { RelayDefaults, type RelayOptions } from './options.js';
export { type DeadLetter, type PublishOutcome, publishRecords } from './publisher.js';
export {
  type OutboxReplayOptions,
  type OutboxReplayResult,
  type ReplayFilter,
  replayOutbox,
} from './replay.js';
export { type ReplayableTable, ReplayTableError, replayableTable } from './replay-table.js';
export {
  type ClassifiedRecord,
  classifyRecord,
  type PoisonRecord,
  type PublishableRecord,
} from './stream-records.js';
