import { EventBoxError } from '../shared/errors.js';
import type { ActionFailure, ActionSummary } from './actions.js';

/** An action was malformed: missing key, bad condition, version mismatch, ... Nothing was sent. */
export class InvalidActionError extends EventBoxError {
  override name = 'InvalidActionError';
}

/** Two actions of one transaction target the same item, which DynamoDB refuses. Nothing was sent. */
export class DuplicateActionError extends EventBoxError {
  override name = 'DuplicateActionError';

  constructor(
    readonly first: ActionSummary,
    readonly second: ActionSummary,
  ) {
    super(
      `Actions #${first.index} (${first.kind}) and #${second.index} (${second.kind}) target the same item ${describeTarget(second)}; DynamoDB allows one action per item in a transaction`,
    );
  }
}

/** The transaction would exceed 100 actions or 4 MB. Raised by the action that crosses the limit. */
export class TransactionTooLargeError extends EventBoxError {
  override name = 'TransactionTooLargeError';

  constructor(
    readonly actions: number,
    readonly bytes: number,
    readonly limit: { readonly actions: number; readonly bytes: number },
  ) {
    super(
      `Transaction too large: ${actions} actions and ${bytes} bytes; the limit is ${limit.actions} actions and ${limit.bytes} bytes`,
    );
  }
}

/** One item (entity or outbox) would exceed the 400 KB DynamoDB item limit. Nothing was sent. */
export class ItemTooLargeError extends EventBoxError {
  override name = 'ItemTooLargeError';

  constructor(
    readonly action: ActionSummary,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`Item ${describeTarget(action)} is ${bytes} bytes; the DynamoDB limit is ${limit} bytes`);
  }
}

/**
 * An event was published where nothing relays the outbox, so it would never leave the
 * table. Nothing was sent; the message says how to give the outbox a relay.
 */
export class OutboxDisabledError extends EventBoxError {
  override name = 'OutboxDisabledError';

  constructor(
    readonly eventType: string,
    readonly reason: string,
  ) {
    super(`Cannot publish ${eventType}: ${reason}`);
  }
}

/** An event would exceed the bus entry limit. Nothing was sent. */
export class EventTooLargeError extends EventBoxError {
  override name = 'EventTooLargeError';

  constructor(
    readonly eventId: string,
    readonly eventType: string,
    readonly bytes: number,
    readonly limit: number,
    /** What was too large: the bus entry, or the outbox item that stores the event. */
    readonly as: 'PutEvents entry' | 'outbox item' = 'PutEvents entry',
  ) {
    super(
      as === 'outbox item'
        ? `Event ${eventType} (${eventId}) is ${bytes} bytes as an outbox item; DynamoDB items are at most ${limit} bytes, so an event must also fit its outbox item, whatever maxEventBytes allows on the bus`
        : `Event ${eventType} (${eventId}) is ${bytes} bytes as a PutEvents entry; the limit is ${limit} bytes`,
    );
  }
}

/** The transaction was already committed or its commit failed; start a new one. */
export class TransactionStateError extends EventBoxError {
  override name = 'TransactionStateError';
}

/**
 * DynamoDB cancelled the transaction: nothing was written. `failures` maps every
 * cancellation reason back to the action that caused it. Subclasses name the usual causes.
 */
export class TransactionCanceledError extends EventBoxError {
  override name = 'TransactionCanceledError';

  constructor(
    message: string,
    readonly failures: readonly ActionFailure[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A version guard failed: the stored version is not the expected one. */
export class VersionConflictError extends TransactionCanceledError {
  override name = 'VersionConflictError';

  /** The action whose guard failed. */
  readonly action: ActionSummary;
  readonly expectedVersion: number;
  /** The stored version when DynamoDB returned the item; `undefined` if the item is absent or not returned. */
  readonly actualVersion: number | undefined;

  constructor(
    failure: ActionFailure & { action: ActionSummary & { expectedVersion: number } },
    failures: readonly ActionFailure[],
    options?: { cause?: unknown },
  ) {
    const { action } = failure;
    const found = versionFound(failure, action.kind);
    super(
      action.kind === 'publish'
        ? `Version conflict: ${describeTarget(action)} already holds an event for aggregate version ${action.expectedVersion + 1}`
        : `Version conflict on ${describeTarget(action)}: expected version ${action.expectedVersion}, found ${found}`,
      failures,
      options,
    );
    this.action = action;
    this.expectedVersion = action.expectedVersion;
    this.actualVersion =
      typeof failure.actualVersion === 'number' ? failure.actualVersion : undefined;
  }
}

function versionFound(failure: ActionFailure, kind: ActionSummary['kind']): string {
  if (typeof failure.actualVersion === 'number') return `version ${failure.actualVersion}`;
  if (failure.item !== undefined) return 'an item without a version';
  return kind === 'publish' ? 'an existing event' : 'no item (or the engine did not return it)';
}

/** A create (expected version 0) found the item already there. */
export class AlreadyExistsError extends TransactionCanceledError {
  override name = 'AlreadyExistsError';

  constructor(
    readonly action: ActionSummary,
    failures: readonly ActionFailure[],
    options?: { cause?: unknown },
  ) {
    super(`Item ${describeTarget(action)} already exists`, failures, options);
  }
}

/** A `check` or a caller-supplied condition was not met. */
export class ConditionFailedError extends TransactionCanceledError {
  override name = 'ConditionFailedError';

  constructor(
    readonly action: ActionSummary,
    failures: readonly ActionFailure[],
    options?: { cause?: unknown },
  ) {
    super(`Condition failed on ${describeTarget(action)} (${action.kind})`, failures, options);
  }
}

/** Another transaction was touching the same item at the same time; retrying is safe. */
export class TransactionConflictError extends TransactionCanceledError {
  override name = 'TransactionConflictError';

  constructor(
    readonly action: ActionSummary,
    failures: readonly ActionFailure[],
    options?: { cause?: unknown },
  ) {
    super(
      `Transaction conflict on ${describeTarget(action)}: another transaction was in progress on it; retry`,
      failures,
      options,
    );
  }
}

export function describeTarget(action: Pick<ActionSummary, 'tableName' | 'key'>): string {
  const key = Object.entries(action.key)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(', ');
  return `${action.tableName}[${key}]`;
}
