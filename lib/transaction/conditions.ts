import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { InvalidActionError } from './errors.js';
import type { ExpressionAttributes } from './expressions.js';

type Value = NativeAttributeValue;

/**
 * A condition on one item, built from named clauses. `attr` is a top-level attribute name.
 *
 * @example
 * { and: [{ attr: 'status', eq: 'open' }, { attr: 'total', gte: 10 }] }
 */
export type Condition =
  | { readonly attr: string; readonly eq: Value }
  | { readonly attr: string; readonly ne: Value }
  | { readonly attr: string; readonly lt: Value }
  | { readonly attr: string; readonly lte: Value }
  | { readonly attr: string; readonly gt: Value }
  | { readonly attr: string; readonly gte: Value }
  | { readonly attr: string; readonly between: readonly [Value, Value] }
  | { readonly attr: string; readonly in: readonly Value[] }
  | { readonly attr: string; readonly exists: boolean }
  | { readonly attr: string; readonly beginsWith: string }
  | { readonly attr: string; readonly contains: Value }
  | { readonly and: readonly Condition[] }
  | { readonly or: readonly Condition[] }
  | { readonly not: Condition };

const comparators = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;
const clauseKeys = [
  ...Object.keys(comparators),
  'between',
  'in',
  'exists',
  'beginsWith',
  'contains',
];

/** Renders a condition into an expression, adding its placeholders to `attributes`. */
export function renderCondition(condition: Condition, attributes: ExpressionAttributes): string {
  if ('and' in condition) return group(condition.and, 'AND', attributes);
  if ('or' in condition) return group(condition.or, 'OR', attributes);
  if ('not' in condition) return `(NOT ${renderCondition(condition.not, attributes)})`;
  const clauses = Object.keys(condition).filter((k) => k !== 'attr');
  const [clause] = clauses;
  if (clauses.length !== 1 || clause === undefined || !clauseKeys.includes(clause)) {
    throw new InvalidActionError(
      `A condition on "${condition.attr}" needs exactly one of ${clauseKeys.join(', ')}; got ${clauses.join(', ') || 'none'}`,
    );
  }
  const name = attributes.name(condition.attr);
  if ('exists' in condition) {
    return condition.exists ? `attribute_exists(${name})` : `attribute_not_exists(${name})`;
  }
  if ('beginsWith' in condition)
    return `begins_with(${name}, ${attributes.value(condition.beginsWith)})`;
  if ('contains' in condition) return `contains(${name}, ${attributes.value(condition.contains)})`;
  if ('between' in condition) {
    const [low, high] = condition.between;
    return `${name} BETWEEN ${attributes.value(low)} AND ${attributes.value(high)}`;
  }
  if ('in' in condition) {
    if (condition.in.length === 0 || condition.in.length > 100) {
      throw new InvalidActionError(
        `"in" on "${condition.attr}" needs 1 to 100 values; got ${condition.in.length}`,
      );
    }
    return `${name} IN (${condition.in.map((v) => attributes.value(v)).join(', ')})`;
  }
  for (const [key, operator] of Object.entries(comparators)) {
    if (key in condition) {
      return `${name} ${operator} ${attributes.value((condition as Record<string, Value>)[key])}`;
    }
  }
  throw new InvalidActionError(`Unsupported condition on "${condition.attr}"`);
}

function group(
  parts: readonly Condition[],
  operator: 'AND' | 'OR',
  attributes: ExpressionAttributes,
): string {
  if (parts.length === 0)
    throw new InvalidActionError(`"${operator.toLowerCase()}" needs at least one condition`);
  return `(${parts.map((p) => renderCondition(p, attributes)).join(` ${operator} `)})`;
}

/** Joins expressions with AND, skipping absent ones. */
export function allOf(...expressions: Array<string | undefined>): string | undefined {
  const present = expressions.filter((e): e is string => e !== undefined);
  if (present.length === 0) return undefined;
  return present.length === 1 ? present[0] : present.join(' AND ');
}
