import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import type {
  ActionFailure,
  ActionKind,
  ActionSummary,
  Item,
  Key,
  TableLayout,
  TransactItem,
} from './actions.js';
import { type Condition, renderCondition } from './conditions.js';
import { AlreadyExistsError, InvalidActionError, type TransactionCanceledError } from './errors.js';
import { ExpressionAttributes } from './expressions.js';
import { checkKeyOnly, checkVersion, guardedParams, keyOf, onFailure } from './guards.js';
import {
  renderChange,
  type UpdateClauses,
  UpdateOperation,
  updateExpression,
} from './update-operations.js';

/**
 * Names the error for this action's failed condition in its planner's terms (a job that
 * was started before, an event already handled), so the transaction module needs to know
 * no caller's cases. Called only when the action's condition failed and it had no version guard.
 */
export type ConditionFailureNamer = (
  failure: ActionFailure,
  failures: readonly ActionFailure[],
  options: { cause: unknown },
) => TransactionCanceledError;

export interface PlannedAction {
  readonly summary: Omit<ActionSummary, 'index'>;
  readonly transactItem: TransactItem;
  /** The item's size for the 400 KB and 4 MB checks; keys only for update, delete and check. */
  readonly item: Item;
  /** How a failure of its condition is reported; `ConditionFailedError` when absent. */
  readonly conditionFailure?: ConditionFailureNamer;
}

export interface GuardOptions {
  /**
   * The version the stored item must have. `0` means the item must not exist.
   * The write stores `expectedVersion + 1`. Omit for an unguarded write that leaves the
   * version attribute alone.
   */
  readonly expectedVersion?: number;
  /** An additional condition, combined with the version guard by AND. */
  readonly condition?: Condition;
  /** Target another table than the box's own. */
  readonly tableName?: string;
}

/** What `update` does to one attribute: a value to set, an operation, or `undefined` to remove it. */
export type UpdateChange = NativeAttributeValue | UpdateOperation | undefined;

function summaryOf(
  kind: ActionKind,
  layout: TableLayout,
  key: Key,
  options: GuardOptions,
): Omit<ActionSummary, 'index'> {
  return {
    kind,
    tableName: layout.tableName,
    key,
    ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }),
    ...(options.condition === undefined ? {} : { hasCondition: true }),
  };
}

export function planPut(layout: TableLayout, item: Item, options: GuardOptions): PlannedAction {
  const key = keyOf(layout, item, 'put');
  checkVersion(options.expectedVersion, 'put', 0);
  const written = { ...item };
  if (options.expectedVersion !== undefined) {
    const next = options.expectedVersion + 1;
    const given = item[layout.versionAttribute];
    if (given !== undefined && given !== next) {
      throw new InvalidActionError(
        `put on ${layout.tableName}: the item's "${layout.versionAttribute}" is ${JSON.stringify(given)} but expectedVersion ${options.expectedVersion} writes ${next}; leave it out`,
      );
    }
    written[layout.versionAttribute] = next;
  }
  const attributes = new ExpressionAttributes();
  const guarded = guardedParams(layout, options, attributes);
  return {
    summary: summaryOf('put', layout, key, options),
    item: written,
    transactItem: {
      Put: {
        TableName: layout.tableName,
        Item: written,
        ...guarded,
      },
    },
  };
}

/**
 * `changes` sets each attribute to its value, applies an operation (`add`, `append`,
 * `addToSet`, `removeFromSet`, `ifNotExists`), or removes it for an `undefined` value.
 */
export function planUpdate(
  layout: TableLayout,
  keyInput: Key,
  changes: Readonly<Record<string, UpdateChange>>,
  options: GuardOptions,
): PlannedAction {
  const key = checkKeyOnly(layout, keyInput, 'update');
  checkVersion(options.expectedVersion, 'update', 0);
  const forbidden = [layout.partitionKey, layout.sortKey];
  if (options.expectedVersion !== undefined) forbidden.push(layout.versionAttribute);
  const touched = Object.keys(changes).filter((name) => forbidden.includes(name));
  if (touched.length > 0) {
    throw new InvalidActionError(
      `update on ${layout.tableName} cannot change ${touched.join(', ')} (keys, and the version when it is guarded)`,
    );
  }
  const attributes = new ExpressionAttributes();
  const clauses: UpdateClauses = { set: [], remove: [], add: [], delete: [] };
  for (const [name, change] of Object.entries(changes))
    renderChange(name, change, attributes, clauses);
  if (options.expectedVersion !== undefined) {
    clauses.set.push(
      `${attributes.name(layout.versionAttribute)} = ${attributes.value(options.expectedVersion + 1)}`,
    );
  }
  if (Object.keys(changes).length === 0 && options.expectedVersion === undefined) {
    throw new InvalidActionError(`update on ${layout.tableName} has no changes`);
  }
  const guarded = guardedParams(layout, options, attributes);
  const sized: Item = { ...key };
  for (const [name, change] of Object.entries(changes)) {
    if (change !== undefined)
      sized[name] = change instanceof UpdateOperation ? change.value : change;
  }
  return {
    summary: summaryOf('update', layout, key, options),
    item: sized,
    transactItem: {
      Update: {
        TableName: layout.tableName,
        Key: key,
        UpdateExpression: updateExpression(clauses),
        ...guarded,
      },
    },
  };
}

export function planDelete(
  layout: TableLayout,
  keyInput: Key,
  options: GuardOptions,
): PlannedAction {
  const key = checkKeyOnly(layout, keyInput, 'delete');
  checkVersion(options.expectedVersion, 'delete', 1);
  const attributes = new ExpressionAttributes();
  const guarded = guardedParams(layout, options, attributes);
  return {
    summary: summaryOf('delete', layout, key, options),
    item: { ...key },
    transactItem: {
      Delete: {
        TableName: layout.tableName,
        Key: key,
        ...guarded,
      },
    },
  };
}

export function planCheck(layout: TableLayout, keyInput: Key, condition: Condition): PlannedAction {
  const key = checkKeyOnly(layout, keyInput, 'check');
  const attributes = new ExpressionAttributes();
  const expression = renderCondition(condition, attributes);
  return {
    summary: { kind: 'check', tableName: layout.tableName, key, hasCondition: true },
    item: { ...key },
    transactItem: {
      ConditionCheck: {
        TableName: layout.tableName,
        Key: key,
        ConditionExpression: expression,
        ...attributes.toParams(),
        ...onFailure,
      },
    },
  };
}

/** The failure of a create without a version guard: the item is there already. */
export const alreadyExists: ConditionFailureNamer = (failure, failures, options) =>
  new AlreadyExistsError(failure.action, failures, options);

/**
 * A put that must create its item: outbox items, inbox records, job records. A failed
 * create is an `AlreadyExistsError` unless `conditionFailure` names it otherwise.
 */
export function planCreate(
  layout: TableLayout,
  kind: ActionKind,
  item: Item,
  extra: Partial<Omit<ActionSummary, 'index' | 'kind' | 'tableName' | 'key'>> = {},
  conditionFailure: ConditionFailureNamer = alreadyExists,
): PlannedAction {
  const key = keyOf(layout, item, kind);
  const attributes = new ExpressionAttributes();
  return {
    summary: { kind, tableName: layout.tableName, key, ...extra },
    item,
    conditionFailure,
    transactItem: {
      Put: {
        TableName: layout.tableName,
        Item: item,
        ConditionExpression: `attribute_not_exists(${attributes.name(layout.partitionKey)})`,
        ...attributes.toParams(),
        ...onFailure,
      },
    },
  };
}
