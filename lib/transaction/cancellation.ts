import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ActionFailure, ActionSummary } from './actions.js';
import {
  AlreadyExistsError,
  ConditionFailedError,
  describeTarget,
  TransactionCanceledError,
  TransactionConflictError,
  VersionConflictError,
} from './errors.js';
import type { ConditionFailureNamer } from './planners.js';

/** An action as the cancellation mapping needs it: what it did and how its failure is named. */
export interface CancellableAction {
  readonly summary: ActionSummary;
  readonly conditionFailure?: ConditionFailureNamer;
}

interface CancellationReason {
  Code?: string;
  Message?: string;
  Item?: Record<string, AttributeValue>;
}

/** True for the SDK's TransactionCanceledException, without importing its class. */
export function isTransactionCanceled(
  error: unknown,
): error is Error & { CancellationReasons?: CancellationReason[] } {
  return error instanceof Error && error.name === 'TransactionCanceledException';
}

/**
 * Maps each cancellation reason to the action at the same position, and picks the error
 * that names the first real cause: a failed condition before a conflict before the rest.
 */
export function mapCancellation(
  error: Error & { CancellationReasons?: CancellationReason[] },
  actions: readonly CancellableAction[],
  versionAttribute: (tableName: string) => string,
): TransactionCanceledError {
  const failures: ActionFailure[] = [];
  (error.CancellationReasons ?? []).forEach((reason, index) => {
    const action = actions[index]?.summary;
    if (action === undefined || reason.Code === undefined || reason.Code === 'None') return;
    const item = reason.Item ? unmarshall(reason.Item) : undefined;
    const version = item?.[versionAttribute(action.tableName)];
    failures.push({
      action,
      code: reason.Code,
      ...(reason.Message ? { message: reason.Message } : {}),
      ...(item ? { item } : {}),
      ...(typeof version === 'number' ? { actualVersion: version } : {}),
    });
  });
  const options = { cause: error };
  const conditional = failures.find((f) => f.code === 'ConditionalCheckFailed');
  if (conditional) {
    const named = actions[conditional.action.index]?.conditionFailure;
    return conditionError(conditional, failures, options, named);
  }
  const conflict = failures.find((f) => f.code === 'TransactionConflict');
  if (conflict) return new TransactionConflictError(conflict.action, failures, options);
  const described = failures.map(
    (f) => `${f.code} on ${describeTarget(f.action)} (#${f.action.index} ${f.action.kind})`,
  );
  return new TransactionCanceledError(
    `Transaction cancelled: ${described.join('; ') || error.message}`,
    failures,
    options,
  );
}

function conditionError(
  failure: ActionFailure,
  failures: readonly ActionFailure[],
  options: { cause: unknown },
  named: ConditionFailureNamer | undefined,
): TransactionCanceledError {
  const { action } = failure;
  const expected = action.expectedVersion;
  if (action.kind === 'publish' && expected !== undefined) {
    return new VersionConflictError(
      { ...failure, action: { ...action, expectedVersion: expected } },
      failures,
      options,
    );
  }
  if (expected === undefined) {
    return named
      ? named(failure, failures, options)
      : new ConditionFailedError(action, failures, options);
  }
  // With a caller condition as well, the stored item tells which of the two failed.
  if (expected === 0) {
    return action.hasCondition && failure.item === undefined
      ? new ConditionFailedError(action, failures, options)
      : new AlreadyExistsError(action, failures, options);
  }
  if (action.hasCondition && failure.actualVersion === expected) {
    return new ConditionFailedError(action, failures, options);
  }
  return new VersionConflictError(
    { ...failure, action: { ...action, expectedVersion: expected } },
    failures,
    options,
  );
}
