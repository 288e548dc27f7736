import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSClientConfig } from '@aws-sdk/client-sqs';
import {
  ChangeMessageVisibilityCommand,
  GetQueueUrlCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { EventEnvelope } from '../envelope/envelope.js';
import { sendConsumerDeadLetter } from './dead-letter.js';
import type { InboxMessage } from './messages.js';
import { DeliveryMetrics } from './metrics.js';
import type { Outcome, RetryKind, RetryKindInfo } from './outcome.js';

/** What settling needs of whoever handled the message: the inbox engine, or the job runner. */
export interface SettleContext {
  readonly consumerName: string;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly options: {
    readonly deadLetterQueueUrl?: string;
    readonly maxReceiveCount?: number;
    readonly failureDestination?: boolean;
    readonly queueUrl?: string;
    readonly sqsClient?: SQSClient;
    readonly sqsClientConfig?: SQSClientConfig;
  };
  /** The kinds of retry the processor decides: their metrics and labels. */
  readonly retryKinds: Readonly<Partial<Record<RetryKind, RetryKindInfo>>>;
  /** Seconds a message that failed waits before its next attempt. */
  backoffSeconds(receiveCount: number): number;
  /** After an event is dead-lettered: forgets what it waited, so a redrive waits afresh. */
  deadLettered?(event: EventEnvelope): Promise<void>;
}

/**
 * SQS takes a visibility timeout up to 12 hours from the receipt and rejects more; the
 * margin covers the time between SQS's receipt and this invocation seeing the message.
 */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
const RECEIPT_MARGIN_SECONDS = 60;
/** SQS's longest per-message delay. */
const MAX_DELAY_SECONDS = 900;

/** `seconds`, or what is left of the 12 hours the message's receipt allows. */
export function visibilityWithinLimit(
  seconds: number,
  receivedAt: number | undefined,
  now: number = Date.now(),
): number {
  const held = receivedAt === undefined ? 0 : Math.ceil((now - receivedAt) / 1000);
  const left = MAX_VISIBILITY_SECONDS - RECEIPT_MARGIN_SECONDS - held;
  return Math.max(0, Math.min(seconds, left));
}

/**
 * Carries out an outcome: metrics and logs, the retry delay (ChangeMessageVisibility) and
 * dead letters. Resolves whether the message is done (true) or must come back (false).
 */
export class Settler {
  readonly #engine: SettleContext;
  readonly #sqs: SQSClient;
  readonly #queueUrls = new Map<string, Promise<string>>();

  constructor(engine: SettleContext) {
    this.#engine = engine;
    const { sqsClient, sqsClientConfig } = engine.options;
    this.#sqs = sqsClient ?? new SQSClient(sqsClientConfig ?? {});
  }

  /** A kind the processor did not describe still counts, under its own name. */
  #kind(kind: RetryKind): RetryKindInfo {
    return this.#engine.retryKinds[kind] ?? { metric: DeliveryMetrics.retries, label: kind };
  }

  async settle(message: InboxMessage, outcome: Outcome): Promise<boolean> {
    const { metrics, logger } = this.#engine;
    const eventId = 'event' in outcome ? outcome.event?.id : undefined;
    const last = this.#lastDelivery(message);
    const kind = outcome.status === 'retry' ? this.#kind(outcome.kind) : undefined;
    // An event that may still wait is not cut short by the queue's count of receives.
    if (last && outcome.status === 'retry' && kind?.requeuedMetric) {
      if (await this.#requeue(message, outcome.delaySeconds)) {
        metrics.addMetric(kind.requeuedMetric, MetricUnit.Count, 1);
        return true;
      }
    }
    if (last && (outcome.status === 'retry' || outcome.status === 'failed')) {
      const why =
        outcome.status === 'retry'
          ? `${kind?.label}: ${outcome.reason}`
          : `Handler failed: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`;
      return this.#deadLetter(message, `${why} ${last}`, outcome.event);
    }
    switch (outcome.status) {
      case 'handled':
        metrics.addMetric(DeliveryMetrics.handled, MetricUnit.Count, 1);
        if (outcome.staleSkipped > 0)
          metrics.addMetric(DeliveryMetrics.staleSkipped, MetricUnit.Count, outcome.staleSkipped);
        logger.info('handled', {
          eventId,
          eventType: outcome.event.type,
          staleSkipped: outcome.staleSkipped,
          published: outcome.published.map((e) => e.id),
        });
        return true;
      case 'duplicate':
        metrics.addMetric(DeliveryMetrics.duplicates, MetricUnit.Count, 1);
        logger.info('duplicate ignored', { eventId, messageId: message.messageId });
        return true;
      case 'retry':
        metrics.addMetric(kind?.metric ?? DeliveryMetrics.retries, MetricUnit.Count, 1);
        logger.info('retry later', {
          eventId,
          kind: outcome.kind,
          reason: outcome.reason,
          delaySeconds: outcome.delaySeconds,
          attempt: message.receiveCount,
        });
        await this.#delay(message, outcome.delaySeconds);
        return false;
      case 'dead-letter':
        return this.#deadLetter(message, outcome.reason, outcome.event);
      case 'failed': {
        metrics.addMetric(DeliveryMetrics.failures, MetricUnit.Count, 1);
        // Back off as for "not yet", rather than wait out the whole visibility timeout.
        const delaySeconds = this.#engine.backoffSeconds(message.receiveCount);
        logger.error('handler failed; the message comes back', {
          eventId,
          messageId: message.messageId,
          delaySeconds,
          error: outcome.error,
        });
        await this.#delay(message, delaySeconds);
        return false;
      }
    }
  }

  /**
   * Returns a message that was not started to its queue at once, to be received again:
   * the invocation is near its deadline, or (FIFO) an earlier message of its group failed,
   * and SQS holds the group back while that one is in flight, for its own delay only.
   * Resolves true if the message is done instead: on its last delivery it is dead-lettered
   * with why it was not started.
   */
  async release(message: InboxMessage, why: 'deadline' | 'group-blocked'): Promise<boolean> {
    const last = this.#lastDelivery(message);
    if (last) {
      const reason =
        why === 'deadline'
          ? 'Not started: the invocation was near its deadline'
          : 'Not started: an earlier message of its FIFO group failed';
      if (await this.#deadLetter(message, `${reason} ${last}`)) return true;
    }
    this.#engine.metrics.addMetric(DeliveryMetrics.returnedUnstarted, MetricUnit.Count, 1);
    this.#engine.logger.info('message returned unstarted', { messageId: message.messageId, why });
    await this.#delay(message, 0);
    return false;
  }

  /**
   * On the queue's last delivery of a message (its maxReceiveCount), how the reason ends:
   * the message is dead-lettered here, with what kept it coming back, rather than moved by
   * SQS on the next receive with no reason at all. Likewise for an event EventBridge
   * delivered directly to a function with no on-failure destination: its first delivery is
   * its last that is sure to be kept. Undefined on any other delivery.
   */
  #lastDelivery(message: InboxMessage): string | undefined {
    const { maxReceiveCount, deadLetterQueueUrl, failureDestination } = this.#engine.options;
    if (!deadLetterQueueUrl) return undefined;
    if (message.origin === 'eventbridge') {
      return failureDestination
        ? undefined
        : '(delivered directly by EventBridge to a function without an on-failure destination, where Lambda would drop it after two retries)';
    }
    if (!maxReceiveCount) return undefined;
    if (message.receiveCount < maxReceiveCount) return undefined;
    return `(delivery ${message.receiveCount}, the queue's last: maxReceiveCount ${maxReceiveCount})`;
  }

  async #deadLetter(
    message: InboxMessage,
    reason: string,
    event?: Parameters<typeof sendConsumerDeadLetter>[5],
  ): Promise<boolean> {
    const { metrics, logger, options, consumerName } = this.#engine;
    logger.error('dead-lettering message', {
      eventId: event?.id,
      messageId: message.messageId,
      reason,
    });
    if (!options.deadLetterQueueUrl) {
      metrics.addMetric(DeliveryMetrics.failures, MetricUnit.Count, 1);
      return false;
    }
    try {
      await sendConsumerDeadLetter(
        this.#sqs,
        options.deadLetterQueueUrl,
        consumerName,
        message,
        reason,
        event,
      );
      metrics.addMetric(DeliveryMetrics.deadLettered, MetricUnit.Count, 1);
      if (event) await this.#engine.deadLettered?.(event);
      return true;
    } catch (error) {
      metrics.addMetric(DeliveryMetrics.failures, MetricUnit.Count, 1);
      logger.error('dead-letter send failed; the message comes back', {
        messageId: message.messageId,
        error,
      });
      return false;
    }
  }

  /**
   * Sends the message to its queue again as a new one, to be received after `delaySeconds`
   * (up to SQS's 900): its receive count starts afresh, while the "not yet" budget, kept in the table, goes on. Resolves whether the
   * copy was sent; the original is then done. A copy sent but not known to be (a lost
   * response) is absorbed by the inbox as a duplicate.
   */
  async #requeue(message: InboxMessage, delaySeconds: number): Promise<boolean> {
    // A FIFO copy would go behind its group's later messages, which would then run before
    // it: there the queue's count bounds the wait, and the message is dead-lettered.
    if (message.origin !== 'sqs' || !message.queueArn || typeof message.body !== 'string')
      return false;
    if (message.groupId !== undefined) return false;
    try {
      await this.#sqs.send(
        new SendMessageCommand({
          QueueUrl: await this.#queueUrl(message.queueArn),
          MessageBody: message.body,
          DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.round(delaySeconds))),
        }),
      );
      this.#engine.logger.info('sent to the queue again, to wait on', {
        messageId: message.messageId,
        delaySeconds,
      });
      return true;
    } catch (error) {
      this.#engine.logger.warn('could not send the message to its queue again', {
        messageId: message.messageId,
        error,
      });
      return false;
    }
  }

  /** Keeps a message invisible for `seconds`; without it, the queue's visibility timeout applies. */
  async #delay(message: InboxMessage, seconds: number): Promise<void> {
    if (message.origin !== 'sqs' || !message.receiptHandle || !message.queueArn) return;
    try {
      await this.#sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: await this.#queueUrl(message.queueArn),
          ReceiptHandle: message.receiptHandle,
          VisibilityTimeout: visibilityWithinLimit(seconds, message.receivedAt),
        }),
      );
    } catch (error) {
      this.#engine.logger.warn(
        'could not delay the message; the queue visibility timeout applies',
        { messageId: message.messageId, error },
      );
    }
  }

  #queueUrl(arn: string): Promise<string> {
    let url = this.#queueUrls.get(arn);
    if (!url) {
      const [, , , , account, name] = arn.split(':');
      // The queue the construct feeds the function from: no GetQueueUrl call needed.
      const known = this.#engine.options.queueUrl;
      if (known && name && known.endsWith(`/${name}`)) return Promise.resolve(known);
      url = this.#sqs
        .send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))
        .then((r) => r.QueueUrl ?? '');
      url.catch(() => this.#queueUrls.delete(arn));
      this.#queueUrls.set(arn, url);
    }
    return url;
  }
}
