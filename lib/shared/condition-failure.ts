import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * A single write's condition was not met: DynamoDB's `ConditionalCheckFailedException`,
 * with the item when the request asked for it on failure.
 */
export function isConditionFailure(
  error: unknown,
): error is Error & { Item?: Record<string, AttributeValue> } {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
