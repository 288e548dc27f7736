import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';
import { InvalidActionError } from './errors.js';
import type { ExpressionAttributes } from './expressions.js';

type SetMember = string | number;

/**
 * A change `update` applies on the server, without reading the item first: counters,
 * lists and sets that concurrent writers change without a version guard and without
 * conflicts. Build one with `add`, `append`, `addToSet`, `removeFromSet` or `ifNotExists`.
 */
export class UpdateOperation {
  /** @internal use the builder functions */
  constructor(
    readonly kind: 'add' | 'append' | 'addToSet' | 'removeFromSet' | 'ifNotExists',
    readonly value: NativeAttributeValue,
  ) {}
}

/** Adds `amount` (negative to subtract) to a number attribute; an absent attribute counts as 0. */
export function add(amount: number): UpdateOperation {
  if (!Number.isFinite(amount))
    throw new InvalidActionError(`add needs a finite number; got ${amount}`);
  return new UpdateOperation('add', amount);
}

/** Appends items to a list attribute; an absent attribute counts as an empty list. */
export function append(items: readonly NativeAttributeValue[]): UpdateOperation {
  if (!Array.isArray(items) || items.length === 0)
    throw new InvalidActionError('append needs a non-empty array of items');
  return new UpdateOperation('append', [...items]);
}

function setOf(what: string, members: Iterable<SetMember>): Set<SetMember> {
  const set = new Set(members);
  const kinds = new Set([...set].map((m) => typeof m));
  if (set.size === 0 || kinds.size !== 1 || !(kinds.has('string') || kinds.has('number'))) {
    throw new InvalidActionError(
      `${what} needs a non-empty set of strings or of numbers, not both; got ${JSON.stringify([...set])}`,
    );
  }
  return set;
}

/** Adds members to a string or number set attribute; creates the set if absent. */
export function addToSet(members: Iterable<SetMember>): UpdateOperation {
  return new UpdateOperation('addToSet', setOf('addToSet', members));
}

/** Removes members from a string or number set attribute (an emptied set is removed). */
export function removeFromSet(members: Iterable<SetMember>): UpdateOperation {
  return new UpdateOperation('removeFromSet', setOf('removeFromSet', members));
}

/** Sets the attribute only if it has no value yet (a creation time, say). */
export function ifNotExists(value: NativeAttributeValue): UpdateOperation {
  if (value === undefined) throw new InvalidActionError('ifNotExists needs a value');
  return new UpdateOperation('ifNotExists', value);
}

/** The clauses of an update expression, section by section. */
export interface UpdateClauses {
  readonly set: string[];
  readonly remove: string[];
  readonly add: string[];
  readonly delete: string[];
}

/** Renders one attribute's change into the clauses, with its placeholders in `attributes`. */
export function renderChange(
  name: string,
  change: NativeAttributeValue | UpdateOperation | undefined,
  attributes: ExpressionAttributes,
  clauses: UpdateClauses,
): void {
  const path = attributes.name(name);
  if (change === undefined) {
    clauses.remove.push(path);
    return;
  }
  if (!(change instanceof UpdateOperation)) {
    clauses.set.push(`${path} = ${attributes.value(change)}`);
    return;
  }
  switch (change.kind) {
    case 'add':
      clauses.set.push(
        `${path} = if_not_exists(${path}, ${attributes.value(0)}) + ${attributes.value(change.value)}`,
      );
      return;
    case 'append':
      clauses.set.push(
        `${path} = list_append(if_not_exists(${path}, ${attributes.value([])}), ${attributes.value(change.value)})`,
      );
      return;
    case 'ifNotExists':
      clauses.set.push(`${path} = if_not_exists(${path}, ${attributes.value(change.value)})`);
      return;
    case 'addToSet':
      clauses.add.push(`${path} ${attributes.value(change.value)}`);
      return;
    case 'removeFromSet':
      clauses.delete.push(`${path} ${attributes.value(change.value)}`);
      return;
  }
}

/** The update expression of the clauses, sections in DynamoDB's order. */
export function updateExpression(clauses: UpdateClauses): string {
  return [
    clauses.set.length > 0 ? `SET ${clauses.set.join(', ')}` : '',
    clauses.remove.length > 0 ? `REMOVE ${clauses.remove.join(', ')}` : '',
    clauses.add.length > 0 ? `ADD ${clauses.add.join(', ')}` : '',
    clauses.delete.length > 0 ? `DELETE ${clauses.delete.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}
