/**
 * Service limits that Eventbox checks before anything is sent.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
 */
export const Limits = {
  /** Actions in one TransactWriteItems call. */
  maxTransactionActions: 100,
  /** Aggregate size of the items in one TransactWriteItems call. */
  maxTransactionBytes: 4 * 1024 * 1024,
  /** Size of one DynamoDB item, attribute names included. */
  maxItemBytes: 400 * 1024,
  /** Largest PutEvents entry the bus accepts by default. */
  maxEventBytes: 1024 * 1024,
  /** Smallest entry limit a box may be configured with (the bus limit before 2025). */
  minEventBytes: 256 * 1024,
  /** Entries in one PutEvents call. */
  maxPutEventsEntries: 10,
} as const;
