import type { Item, TableLayout } from '../transaction/actions.js';
import { InvalidActionError } from '../transaction/errors.js';
import { ExpressionAttributes } from '../transaction/expressions.js';
import { checkVersion, keyOf, onFailure } from '../transaction/guards.js';
import type { PlannedAction } from '../transaction/planners.js';
import {
  renderChange,
  type UpdateClauses,
  updateExpression,
} from '../transaction/update-operations.js';

/** The kind of a snapshot write in a consumer's transaction, as its failures report it. */
export const synchronizeKind = 'synchronize';

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
  const summary = { kind: synchronizeKind, tableName: layout.tableName, key };
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
