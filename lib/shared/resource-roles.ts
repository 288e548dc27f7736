/**
 * What each resource of a deployment is to Eventbox: the constructs write it into the
 * template as resource metadata (`eventbox`), and `npx eventbox --stack <name>` reads it
 * to find a deployment's tables, queues and functions from the stack alone.
 */
export const ResourceRole = {
  boxTable: 'box-table',
  eventBus: 'event-bus',
  relayFunction: 'relay-function',
  relayDeadLetterQueue: 'relay-dead-letter-queue',
  consumerTable: 'consumer-table',
  consumerQueue: 'consumer-queue',
  consumerDeadLetterQueue: 'consumer-dead-letter-queue',
  consumerFunction: 'consumer-function',
  jobsTable: 'jobs-table',
  archive: 'archive',
} as const;
export type ResourceRole = (typeof ResourceRole)[keyof typeof ResourceRole];
