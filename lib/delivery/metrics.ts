/**
 * The metrics settling counts, for every processor (the inbox, the job runner): each
 * processor's metric table spreads these, so dashboards and alarms read one name.
 */
export const DeliveryMetrics = {
  handled: 'Handled',
  duplicates: 'Duplicates',
  staleSkipped: 'StaleSkipped',
  failures: 'Failures',
  deadLettered: 'DeadLettered',
  returnedUnstarted: 'ReturnedUnstarted',
  /** A retry of a kind its processor did not describe. */
  retries: 'Retries',
} as const;
