import { InvalidOptionsError } from '../shared/errors.js';

/**
 * Environment variables the relay construct sets on the relay function, and the relay
 * entry reads: one table for both, prefixed so that none can be a user's own.
 */
export const RelayEnvironment = {
  eventBusName: 'EVENTBOX_EVENT_BUS_NAME',
  deadLetterQueueUrl: 'EVENTBOX_DEAD_LETTER_QUEUE_URL',
  /** PutEvents calls in flight at once (`relay.concurrency`). */
  concurrency: 'EVENTBOX_RELAY_CONCURRENCY',
  /** Largest PutEvents entry (`relay.maxEntryBytes`). */
  maxEntryBytes: 'EVENTBOX_MAX_ENTRY_BYTES',
  /** Not Eventbox's name, but Eventbox sets it: the `service` dimension of the relay's metrics. */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** Likewise: the namespace of the relay's metrics. */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/**
 * The metrics the relay publishes (namespace `Eventbox`, dimension `service`), which the
 * construct's alarms and dashboard and `eventbox status` read.
 */
export const RelayMetrics = {
  eventsPublished: 'EventsPublished',
  publishErrors: 'PublishErrors',
  publishTime: 'PublishTime',
  batchSize: 'BatchSize',
  poisonRecords: 'PoisonRecords',
} as const;

/**
 * The relay options the relay construct passes through the environment, to spread into
 * `createRelayHandler`'s options (a relay `entry` of your own reads them the same way).
 *
 * @example
 * export const handler = createRelayHandler({ ...relayOptionsFromEnvironment(), logger });
 */
export function relayOptionsFromEnvironment(env: NodeJS.ProcessEnv = process.env) {
  const eventBusName = env[RelayEnvironment.eventBusName];
  if (!eventBusName) {
    throw new InvalidOptionsError('relay environment', [
      `${RelayEnvironment.eventBusName} is not set`,
    ]);
  }
  const number = (name: string) => (env[name] ? Number(env[name]) : undefined);
  const deadLetterQueueUrl = env[RelayEnvironment.deadLetterQueueUrl];
  const concurrency = number(RelayEnvironment.concurrency);
  const maxEntryBytes = number(RelayEnvironment.maxEntryBytes);
  return {
    eventBusName,
    ...(deadLetterQueueUrl ? { deadLetterQueueUrl } : {}),
    ...(concurrency === undefined ? {} : { concurrency }),
    ...(maxEntryBytes === undefined ? {} : { maxEntryBytes }),
  };
}
