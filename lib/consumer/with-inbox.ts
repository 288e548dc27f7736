import {
  type BatchProcessor,
  type DeliveryLambdaHandler,
  deadlineOf,
  deliverSqsBatch,
} from '../delivery/batch.js';
import { refuseUndeliverable, settleDirect } from '../delivery/direct.js';
import { messagesOf } from '../delivery/messages.js';
import { Settler } from '../delivery/settle.js';
import { type InboxContext, InboxEngine, type InboxHandler, type Prefetched } from './engine.js';
import { InboxDefaults, type InboxOptions } from './options.js';
import type { EventOf, PayloadSchemas } from './schemas.js';

/** The Lambda handler `withInbox` returns: SQS batches, or one EventBridge event. */
export type InboxLambdaHandler = DeliveryLambdaHandler;

export { InboxRetryError } from '../delivery/direct.js';

/**
 * Wraps a handler of one event into a Lambda handler that applies every event exactly once:
 * for SQS batches (answering with `batchItemFailures`) and for EventBridge events delivered
 * directly (throwing, so Lambda's asynchronous retries apply; see `failureDestination`).
 *
 * @example
 * export const handler = withInbox(async (event, { tx, get, notYet }) => {
 *   if (event.type === 'OrderPaid') {
 *     const user = await get({ pk: `USER#${event.payload.userId}`, sk: 'USER' });
 *     if (!user) notYet('the user is not known yet');
 *     tx.update({ pk: user.pk, sk: 'USER' }, { score: user.score + 10 }, { expectedVersion: user.version });
 *   }
 * }, { consumerName: 'user-score', tableName: 'user-score' });
 */
export function withInbox<TSchemas extends PayloadSchemas>(
  handler: (event: EventOf<TSchemas>, context: InboxContext) => Promise<void> | void,
  options: InboxOptions & {
    readonly schemas: TSchemas;
    readonly unknownEventTypes?: 'dead-letter';
  },
): InboxLambdaHandler;
export function withInbox<TPayload = unknown>(
  handler: InboxHandler<TPayload>,
  options: InboxOptions | InboxEngine,
): InboxLambdaHandler;
export function withInbox(
  handler: InboxHandler<unknown>,
  options: InboxOptions | InboxEngine,
): InboxLambdaHandler {
  const engine = options instanceof InboxEngine ? options : new InboxEngine(options);
  const settler = new Settler(engine);
  const concurrency = engine.options.concurrency ?? InboxDefaults.concurrency;
  const marginMs = engine.options.deadlineMarginMs ?? InboxDefaults.deadlineMarginMs;
  const processor: BatchProcessor<Prefetched> = {
    prefetch: (messages) => engine.prefetch(messages),
    process: (message, prefetched) => engine.process(message, handler, prefetched),
  };
  return async function inboxHandler(event, context) {
    const messages = messagesOf(event);
    try {
      const [first] = messages;
      if (first?.origin === 'eventbridge') {
        refuseUndeliverable(engine.options);
        await settleDirect(settler, first, await engine.process(first, handler));
        return undefined;
      }
      return await deliverSqsBatch(processor, settler, messages, {
        concurrency,
        deadline: deadlineOf(context, marginMs),
      });
    } finally {
      engine.metrics.publishStoredMetrics();
    }
  };
}
