/**
 * How the relay treats a PutEvents entry error.
 * @see https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html
 */
export const EntryErrorClass = {
  /** Transient: retried inside the invocation with backoff. */
  retryable: 'retryable',
  /** The record itself can never be published as it is: dead-lettered with the reason. */
  poison: 'poison',
  /** A problem of the relay's setup (permissions, account): the stream waits and alarms fire. */
  blocking: 'blocking',
} as const;
export type EntryErrorClass = (typeof EntryErrorClass)[keyof typeof EntryErrorClass];

const retryable = new Set([
  'InternalFailure',
  'InternalException',
  'ThrottlingException',
  'ServiceUnavailable',
]);
const poison = new Set([
  'InvalidArgument',
  'MalformedDetail',
  'ValidationException',
  'RedactionFailure',
  'NotAuthorizedForSourceException',
  'NotAuthorizedForDetailTypeException',
]);

export function classifyEntryError(code: string): EntryErrorClass {
  if (retryable.has(code)) return EntryErrorClass.retryable;
  if (poison.has(code)) return EntryErrorClass.poison;
  return EntryErrorClass.blocking;
}

/** Whether an error thrown by a whole PutEvents call is worth retrying. */
export function isRetryableCallError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = error as Error & { $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (meta.$retryable) return true;
  const status = meta.$metadata?.httpStatusCode;
  if (status === undefined) return true;
  return status === 429 || status >= 500 || retryable.has(error.name);
}
