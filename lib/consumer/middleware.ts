import type { Context } from 'aws-lambda';
import { refuseUndeliverable, settleDirect } from '../delivery/direct.js';
import { type InboxMessage, messagesOf } from '../delivery/messages.js';
import { Settler } from '../delivery/settle.js';
import { type Attempt, type InboxContext, InboxEngine, type Outcome } from './engine.js';
import { UnsupportedInvocationError } from './errors.js';
import type { InboxOptions } from './options.js';

/** The part of a middy request this middleware uses; middy itself is not required. */
export interface MiddyLikeRequest {
  event: unknown;
  context: Context & { inbox?: InboxContext };
  response: unknown;
  error: unknown;
  internal?: Record<string, unknown>;
}

export interface MiddyLikeMiddleware {
  before: (request: MiddyLikeRequest) => Promise<unknown>;
  after: (request: MiddyLikeRequest) => Promise<void>;
  onError: (request: MiddyLikeRequest) => Promise<void>;
}

interface State {
  readonly message: InboxMessage;
  attempt?: Attempt;
}

/**
 * middy middleware over the same engine as `withInbox`, for one message per invocation
 * (an EventBridge target, or an SQS event source mapping with batch size 1). The handler
 * receives the envelope as its event and the inbox context as `context.inbox`.
 *
 * @example
 * export const handler = middy(async (event: EventEnvelope, context: Context & { inbox: InboxContext }) => {
 *   context.inbox.tx.synchronize({ pk: `USER#${event.aggregate.id}`, sk: 'USER', ...event.payload }, { version: event.aggregate.version });
 * }).use(inbox({ consumerName: 'user-score', tableName: 'user-score' }));
 */
export function inbox(options: InboxOptions | InboxEngine): MiddyLikeMiddleware {
  const engine = options instanceof InboxEngine ? options : new InboxEngine(options);
  const settler = new Settler(engine);
  const states = new WeakMap<MiddyLikeRequest, State>();

  /** The invocation's answer: SQS wants batchItemFailures, a direct EventBridge call a throw. */
  const respond = async (state: State, outcome: Outcome): Promise<unknown> => {
    try {
      if (state.message.origin === 'sqs') {
        const done = await settler.settle(state.message, outcome);
        return { batchItemFailures: done ? [] : [{ itemIdentifier: state.message.messageId }] };
      }
      await settleDirect(settler, state.message, outcome);
      return null;
    } finally {
      engine.metrics.publishStoredMetrics();
    }
  };

  return {
    async before(request) {
      const messages = messagesOf(request.event);
      const [message] = messages;
      if (messages.length !== 1 || !message) {
        throw new UnsupportedInvocationError(
          `The inbox middleware handles one message per invocation; got ${messages.length}. Set the SQS event source batch size to 1, or use withInbox for batches.`,
        );
      }
      if (message.origin === 'eventbridge') refuseUndeliverable(engine.options);
      const state: State = { message };
      states.set(request, state);
      const prepared = await engine.prepare(message);
      if ('outcome' in prepared) return respond(state, prepared.outcome);
      const begun = await engine.begin(message, prepared.event);
      if ('outcome' in begun) return respond(state, begun.outcome);
      state.attempt = begun.attempt;
      request.event = begun.attempt.event;
      request.context.inbox = engine.context(begun.attempt);
      return undefined;
    },
    async after(request) {
      const state = states.get(request);
      if (!state?.attempt) return;
      request.response = await respond(state, await engine.complete(state.attempt));
    },
    async onError(request) {
      const state = states.get(request);
      if (!state?.attempt) return;
      const attempt = state.attempt;
      state.attempt = undefined;
      request.response = await respond(state, await engine.fail(attempt, request.error));
    },
  };
}
