export { eventboxBundling, eventboxFunctionDefaults } from './bundling.js';
export { functionLogGroup, queueEncryption } from './encryption.js';
export {
  EventBox,
  type EventBoxProps,
  type OperationsProps,
  OUTBOX_INSERT_FILTER,
  type RelayProps,
} from './event-box.js';
export { EventBoxConsumer, type EventBoxConsumerProps } from './event-box-consumer.js';
export { ownLogsRole } from './function-role.js';
export { JobRunner, type JobRunnerProps } from './job-runner.js';
export { EventBoxQueueTarget, type EventBoxQueueTargetProps } from './queue-target.js';
export { checkRelayableStream, EventBoxRelay, type EventBoxRelayProps } from './relay.js';
export { InvalidPropsError } from './validation.js';
