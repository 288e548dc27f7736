import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { validateOptions } from '../shared/validate-options.js';
import { sqsDeadLetterSender } from './dead-letter.js';
import { RelayMetrics } from './environment.js';
import { RelayDefaults, type RelayOptions, relayOptionsSchema } from './options.js';
import { type DeadLetter, publishRecords } from './publisher.js';
import { classifyRecord, type PoisonRecord, type PublishableRecord } from './stream-records.js';

export type RelayHandler = (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse>;

/**
 * Creates the Lambda handler that relays outbox INSERTs from a DynamoDB stream to
 * EventBridge. Use it with an event source mapping that has `ReportBatchItemFailures`.
 * It is a plain async handler, so `middy(createRelayHandler(...))` works too.
 *
 * The response names the first record that is neither published nor dead-lettered; Lambda
 * retries from there, so nothing after it is lost or reordered (published records after it
 * are published again; consumers deduplicate on the event id).
 * @see https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-batchfailurereporting.html
 *
 * @example
 * export const handler = createRelayHandler({
 *   eventBusName: 'orders-bus',
 *   deadLetterQueueUrl: process.env.RELAY_DLQ_URL,
 * });
 * // Behind the EventBox construct, which sets the environment:
 * export const relayed = createRelayHandler(relayOptionsFromEnvironment());
 */
export function createRelayHandler(options: RelayOptions): RelayHandler {
  validateOptions(relayOptionsSchema, options, 'relay options');
  const eventBridge =
    options.eventBridgeClient ?? new EventBridgeClient(options.eventBridgeClientConfig ?? {});
  let sqs: Promise<SQSClient> | undefined;
  const sqsClient = () => {
    sqs ??= options.sqsClient
      ? Promise.resolve(options.sqsClient)
      : import('@aws-sdk/client-sqs').then(
          ({ SQSClient }) => new SQSClient(options.sqsClientConfig ?? {}),
        );
    return sqs;
  };
  const logger = options.logger ?? new Logger({ serviceName: 'eventbox-relay' });
  const metrics =
    options.metrics ??
    new Metrics({
      namespace: RelayDefaults.metricsNamespace,
      // The construct names each relay through POWERTOOLS_SERVICE_NAME; Powertools reads it.
      ...(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName: 'relay' }),
    });
  const maxEntryBytes = options.maxEntryBytes ?? RelayDefaults.maxEntryBytes;
  const backoff = {
    baseMs: options.backoff?.baseMs ?? RelayDefaults.backoff.baseMs,
    capMs: options.backoff?.capMs ?? RelayDefaults.backoff.capMs,
  };
  const queueUrl = options.deadLetterQueueUrl;
  const sendToQueue = queueUrl
    ? sqsDeadLetterSender(sqsClient, queueUrl, (error) =>
        logger.error('dead-letter send failed', { error }),
      )
    : undefined;

  const deadLetter = async (letters: readonly DeadLetter[]): Promise<boolean[]> => {
    for (const letter of letters) {
      logger.error('unpublishable record', {
        eventId: letter.record.eventId,
        sequenceNumber: letter.record.sequenceNumber,
        reason: letter.reason,
        errorCode: letter.errorCode,
      });
    }
    if (!sendToQueue) return letters.map(() => false);
    const stored = await sendToQueue(letters);
    const count = stored.filter(Boolean).length;
    if (count > 0) metrics.addMetric(RelayMetrics.poisonRecords, MetricUnit.Count, count);
    return stored;
  };

  return async function relayHandler(event, context) {
    const started = performance.now();
    const context_ = { eventBusName: options.eventBusName, maxEntryBytes };
    const publishable: PublishableRecord[] = [];
    const poison: PoisonRecord[] = [];
    const records = event.Records ?? [];
    records.forEach((record, index) => {
      const classified = classifyRecord(record, index, context_);
      if (classified.kind === 'publishable') publishable.push(classified);
      else if (classified.kind === 'poison') poison.push(classified);
    });
    metrics.addMetric(RelayMetrics.batchSize, MetricUnit.Count, records.length);

    try {
      const outcome = await publishRecords(publishable, poison, {
        eventBridge,
        concurrency: options.concurrency ?? RelayDefaults.concurrency,
        maxEntryBytes,
        maxAttempts: options.maxAttempts ?? RelayDefaults.maxAttempts,
        backoff,
        safetyMarginMs: options.safetyMarginMs ?? RelayDefaults.safetyMarginMs,
        remainingMs: () => context.getRemainingTimeInMillis(),
        deadLetter,
        observer: {
          onCall: (_entries, _failed, durationMs) =>
            metrics.addMetric(RelayMetrics.publishTime, MetricUnit.Milliseconds, durationMs),
          onPublished: (published) => {
            metrics.addMetric(RelayMetrics.eventsPublished, MetricUnit.Count, published.length);
            logger.debug('published', { eventIds: published.map((r) => r.eventId) });
          },
          onEntryError: (record, code, errorClass, message) => {
            const single = metrics.singleMetric();
            single.addDimension('ErrorCode', code);
            single.addMetric(RelayMetrics.publishErrors, MetricUnit.Count, 1);
            logger.warn('entry rejected', {
              eventId: record.eventId,
              errorCode: code,
              errorClass,
              errorMessage: message,
            });
          },
          onCallError: (failed, error) => {
            const single = metrics.singleMetric();
            single.addDimension('ErrorCode', (error as Error).name ?? 'Error');
            single.addMetric(RelayMetrics.publishErrors, MetricUnit.Count, failed.length);
            logger.warn('PutEvents call failed', { eventIds: failed.map((r) => r.eventId), error });
          },
          onGiveUp: (record, reason) =>
            logger.warn('not published in this invocation', { eventId: record.eventId, reason }),
        },
      });
      const first = outcome.firstUnpublishedIndex;
      const sequenceNumber =
        first === undefined ? undefined : records[first]?.dynamodb?.SequenceNumber;
      logger.info('relay batch done', {
        records: records.length,
        publishable: publishable.length,
        published: outcome.published,
        deadLettered: outcome.deadLettered,
        calls: outcome.calls,
        firstUnpublishedSequenceNumber: sequenceNumber,
        durationMs: Math.round(performance.now() - started),
      });
      // An empty identifier makes Lambda retry the whole batch: the safe answer when the
      // first unpublished record has no sequence number.
      return {
        batchItemFailures: first === undefined ? [] : [{ itemIdentifier: sequenceNumber ?? '' }],
      };
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
