import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { allOf, type Condition, renderCondition } from './conditions.js';
import { InvalidActionError } from './errors.js';
import { ExpressionAttributes } from './expressions.js';
import {
  renderChange,
  type UpdateClauses,
  UpdateOperation,
  updateExpression,
} from './update-operations.js';

export type Item = Record<string, NativeAttributeValue>;
export type Key = Readonly<Record<string, string>>;
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export const ActionKind = {
  put: 'put',
  update: 'update',
  delete: 'delete',
  check: 'check',
  publish: 'publish',
  synchronize: 'synchronize',
  inbox: 'inbox',
  startJob: 'startJob',
  job: 'job',
} as const;
export type ActionKind = (typeof ActionKind)[keyof typeof ActionKind];

/** What an action did, as reported back in errors. */
export interface ActionSummary {
  /** Position in the transaction, which is also the position of its cancellation reason. */
  readonly index: number;
  readonly kind: ActionKind;
  readonly tableName: string;
  readonly key: Key;
  /** The version guard, when the action has one (for `publish`: the aggregate version minus one). */
  readonly expectedVersion?: number;
  /** Whether the caller added a condition of their own. */
  readonly hasCondition?: boolean;
  /** For `publish`: the event's id. */
  readonly eventId?: string;
  /** For `startJob` and `job` (a job checkpoint): the job's id. */
  readonly jobId?: string;
}

/** One cancellation reason, mapped back to the action that caused it. */
export interface ActionFailure {
  readonly action: ActionSummary;
  /** DynamoDB's reason code: ConditionalCheckFailed, TransactionConflict, ThrottlingError, ... */
  readonly code: string;
  readonly message?: string;
  /** The stored item, when DynamoDB returned it (ReturnValuesOnConditionCheckFailure). */
  readonly item?: Record<string, unknown>;
  readonly actualVersion?: number;
}

/** How items are keyed and versioned in a table. */
export interface TableLayout {
  readonly tableName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly versionAttribute: string;
}

export interface PlannedAction {
  readonly summary: Omit<ActionSummary, 'index'>;
  readonly transactItem: TransactItem;
  /** The item's size for the 400 KB and 4 MB checks; keys only for update, delete and check. */
  readonly item: Item;
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

const onFailure = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } as const;

export function keyOf(
  layout: TableLayout,
  source: Readonly<Record<string, unknown>>,
  what: string,
): Key {
  const key: Record<string, string> = {};
  for (const name of [layout.partitionKey, layout.sortKey]) {
    const value = source[name];
    if (typeof value !== 'string' || value.length === 0) {
      throw new InvalidActionError(
        `${what} on ${layout.tableName} needs a non-empty string "${name}"; got ${JSON.stringify(value)}`,
      );
    }
    key[name] = value;
  }
  return key;
}

function checkKeyOnly(
  layout: TableLayout,
  key: Readonly<Record<string, unknown>>,
  what: string,
): Key {
  const extra = Object.keys(key).filter((k) => k !== layout.partitionKey && k !== layout.sortKey);
  if (extra.length > 0) {
    throw new InvalidActionError(
      `${what} on ${layout.tableName} takes a key of "${layout.partitionKey}" and "${layout.sortKey}" only; got also ${extra.join(', ')}`,
    );
  }
  return keyOf(layout, key, what);
}

function checkVersion(expected: number | undefined, what: string, min: number): void {
  if (expected === undefined) return;
  if (!Number.isSafeInteger(expected) || expected < min) {
    throw new InvalidActionError(
      `${what}: expectedVersion must be an integer >= ${min}; got ${expected}`,
    );
  }
}

/** The version guard: absent for 0, equal to the expected version otherwise. */
function versionGuard(
  layout: TableLayout,
  expected: number | undefined,
  attributes: ExpressionAttributes,
) {
  if (expected === undefined) return undefined;
  if (expected === 0) return `attribute_not_exists(${attributes.name(layout.partitionKey)})`;
  return `${attributes.name(layout.versionAttribute)} = ${attributes.value(expected)}`;
}

function conditionParams(
  layout: TableLayout,
  options: GuardOptions,
  attributes: ExpressionAttributes,
): { ConditionExpression?: string } {
  const expression = allOf(
    versionGuard(layout, options.expectedVersion, attributes),
    options.condition === undefined ? undefined : renderCondition(options.condition, attributes),
  );
  return expression === undefined ? {} : { ConditionExpression: expression };
}

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
  const condition = conditionParams(layout, options, attributes);
  return {
    summary: summaryOf('put', layout, key, options),
    item: written,
    transactItem: {
      Put: {
        TableName: layout.tableName,
        Item: written,
        ...condition,
        ...attributes.toParams(),
        ...(condition.ConditionExpression ? onFailure : {}),
      },
    },
  };
}

/** What `update` does to one attribute: a value to set, an operation, or `undefined` to remove it. */
export type UpdateChange = NativeAttributeValue | UpdateOperation | undefined;

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
  const condition = conditionParams(layout, options, attributes);
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
        ...condition,
        ...attributes.toParams(),
        ...(condition.ConditionExpression ? onFailure : {}),
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
  const condition = conditionParams(layout, options, attributes);
  return {
    summary: summaryOf('delete', layout, key, options),
    item: { ...key },
    transactItem: {
      Delete: {
        TableName: layout.tableName,
        Key: key,
        ...condition,
        ...attributes.toParams(),
        ...(condition.ConditionExpression ? onFailure : {}),
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

/** A put that must create its item: used for outbox and inbox items. */
export function planCreate(
  layout: TableLayout,
  kind: ActionKind,
  item: Item,
  extra: Partial<Omit<ActionSummary, 'index' | 'kind' | 'tableName' | 'key'>> = {},
): PlannedAction {
  const key = keyOf(layout, item, kind);
  const attributes = new ExpressionAttributes();
  return {
    summary: { kind, tableName: layout.tableName, key, ...extra },
    item,
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

/** How `synchronize` treats the attributes a snapshot does not name. */
export const SynchronizeMode = {
  /** The snapshot replaces the whole item (a conditional Put): attributes it does not name are gone. */
  replace: 'replace',
  /** The snapshot's attributes are set, the others kept (a conditional Update): local fields survive. */
  merge: 'merge',
} as const;
export type SynchronizeMode = (typeof SynchronizeMode)[keyof typeof SynchronizeMode];

/**
 * Writes an entity snapshot only if the item is absent or its stored version is lower than
 * `version`: a newer snapshot wins, a stale one fails its condition (and is skipped by the
 * consumer, not treated as an error). `replace` puts the whole item; `merge` sets the
 * snapshot's attributes and keeps the others.
 */
export function planSynchronize(
  layout: TableLayout,
  snapshot: Item,
  version: number,
  mode: SynchronizeMode = SynchronizeMode.replace,
): PlannedAction {
  const key = keyOf(layout, snapshot, 'synchronize');
  checkVersion(version, 'synchronize', 1);
  const given = snapshot[layout.versionAttribute];
  if (given !== undefined && given !== version) {
    throw new InvalidActionError(
      `synchronize on ${layout.tableName}: the snapshot's "${layout.versionAttribute}" is ${JSON.stringify(given)} but version is ${version}`,
    );
  }
  const item = { ...snapshot, [layout.versionAttribute]: version };
  const attributes = new ExpressionAttributes();
  const condition = `attribute_not_exists(${attributes.name(layout.partitionKey)}) OR ${attributes.name(layout.versionAttribute)} < ${attributes.value(version)}`;
  const summary = { kind: 'synchronize', tableName: layout.tableName, key } as const;
  if (mode === SynchronizeMode.merge) {
    const clauses: UpdateClauses = { set: [], remove: [], add: [], delete: [] };
    for (const [name, value] of Object.entries(item)) {
      if (name === layout.partitionKey || name === layout.sortKey || value === undefined) continue;
      renderChange(name, value, attributes, clauses);
    }
    return {
      summary,
      item,
      transactItem: {
        Update: {
          TableName: layout.tableName,
          Key: key,
          UpdateExpression: updateExpression(clauses),
          ConditionExpression: condition,
          ...attributes.toParams(),
          ...onFailure,
        },
      },
    };
  }
  return {
    summary,
    item,
    transactItem: {
      Put: {
        TableName: layout.tableName,
        Item: item,
        ConditionExpression: condition,
        ...attributes.toParams(),
        ...onFailure,
      },
    },
  };
}
