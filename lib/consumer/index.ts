export { envelopeOf, type InboxMessage, messagesOf } from '../delivery/messages.js';
export type { EventEnvelope } from '../envelope/envelope.js';
export type { ConsumerDeadLetterMessage } from '../shared/dead-letters.js';
export { OutboxDisabledError } from '../transaction/errors.js';
export {
  add,
  addToSet,
  append,
  ifNotExists,
  removeFromSet,
  UpdateOperation,
} from '../transaction/update-operations.js';
export { ConsumerTransaction, type SynchronizeOptions } from './consumer-transaction.js';
export {
  type Attempt,
  type InboxContext,
  InboxEngine,
  type InboxEventHandler,
  type InboxHandler,
  type Outcome,
} from './engine.js';
export { ConsumerEnvironment, inboxOptionsFromEnvironment } from './environment.js';
export {
  EventLockedError,
  InvalidMessageError,
  NotYetError,
  UnsupportedInvocationError,
} from './errors.js';
export { InboxItem } from './inbox/format.js';
export { inbox, type MiddyLikeMiddleware, type MiddyLikeRequest } from './middleware.js';
export { InboxDefaults, InboxMode, type InboxOptions } from './options.js';
export type { EventOf, PayloadSchemas, TypedEnvelope } from './schemas.js';
export { SynchronizeMode } from './synchronize.js';
export { type InboxLambdaHandler, InboxRetryError, withInbox } from './with-inbox.js';
