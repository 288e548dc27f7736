import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';

export type Item = Record<string, NativeAttributeValue>;
export type Key = Readonly<Record<string, string>>;
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The kinds of action a transaction plans itself. */
export type CoreActionKind = 'put' | 'update' | 'delete' | 'check' | 'publish';

/**
 * What an action is, as reported in errors: a core kind, or the name a module built on
 * transactions gives the actions it adds (the consumer's inbox record, a job's checkpoint).
 */
export type ActionKind = CoreActionKind | (string & {});

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
