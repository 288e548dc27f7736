export { parseEnvelope, serializeEnvelope } from '../envelope/create.js';
export type { AggregateRef, EventEnvelope, EventInput } from '../envelope/envelope.js';
export { EnvelopeDefaults } from '../envelope/envelope.js';
export { InvalidEventError } from '../envelope/errors.js';
export { newEventId } from '../envelope/event-id.js';
export { OutboxItem } from '../envelope/outbox-item.js';
export type { DynamoDbClientOptions } from '../shared/dynamodb-client.js';
export { EventBoxError, InvalidOptionsError } from '../shared/errors.js';
export { Limits } from '../shared/limits.js';
export type {
  ActionFailure,
  ActionKind,
  ActionSummary,
  CoreActionKind,
  Item,
  Key,
} from '../transaction/actions.js';
export type { Condition } from '../transaction/conditions.js';
export {
  AlreadyExistsError,
  ConditionFailedError,
  DuplicateActionError,
  EventTooLargeError,
  InvalidActionError,
  ItemTooLargeError,
  OutboxDisabledError,
  TransactionCanceledError,
  TransactionConflictError,
  TransactionStateError,
  TransactionTooLargeError,
  VersionConflictError,
} from '../transaction/errors.js';
export type { GuardOptions, UpdateChange } from '../transaction/planners.js';
export {
  type CommitResult,
  Transaction,
  type TransactionSettings,
} from '../transaction/transaction.js';
export {
  add,
  addToSet,
  append,
  ifNotExists,
  removeFromSet,
  UpdateOperation,
} from '../transaction/update-operations.js';
export { EventBox, type EventBoxOptions } from './event-box.js';
export { EventBoxDefaults } from './options.js';
