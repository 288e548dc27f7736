import type { Key, TableLayout } from './actions.js';
import { allOf, renderCondition } from './conditions.js';
import { InvalidActionError } from './errors.js';
import type { ExpressionAttributes } from './expressions.js';
import type { GuardOptions } from './planners.js';

/** Asks DynamoDB for the stored item when a condition fails, so the error can show it. */
export const onFailure = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } as const;

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

export function checkKeyOnly(
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

export function checkVersion(expected: number | undefined, what: string, min: number): void {
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

export function conditionParams(
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

/**
 * The guard of a put, update or delete as its request carries it: the condition, every
 * name and value the expressions used (`attributes` holds the update's too), and the
 * stored item on a failed condition, for the error to report.
 */
export function guardedParams(
  layout: TableLayout,
  options: GuardOptions,
  attributes: ExpressionAttributes,
) {
  const condition = conditionParams(layout, options, attributes);
  return {
    ...condition,
    ...attributes.toParams(),
    ...(condition.ConditionExpression ? onFailure : {}),
  };
}
