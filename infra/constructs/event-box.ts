import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_RELAY_TIMEOUT, eventboxFunctionDefaults } from './bundling.js';
import { deploysToEmulator } from './emulator.js';
import { eventboxEntry } from './function-entry.js';
import { deadLetterQueue, eventboxTable } from './resources.js';
import { checkExclusive, checkRange } from './validation.js';

/** How the relay reads the stream and publishes. */
export interface RelayProps {
  /**
   * Your own relay module instead of Eventbox's: a file whose `handler` export is built with
   * `createRelayHandler` (to add middleware, say). It gets the same environment.
   * @default Eventbox's relay
   */
  readonly entry?: string;
  /** Stream records per invocation, 1 to 10000. Lambda fills big batches only under load, where they publish faster (one batch waits for its slowest PutEvents wave). @default 1000 */
  readonly batchSize?: number;
  /** Wait up to this long to fill a batch, 0 to 300 s. @default no wait */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent batches per shard, 1 to 10; one aggregate's records stay in one batch stream. @default 1 */
  readonly parallelizationFactor?: number;
  /**
   * Retries of a batch the relay fails as a whole (a setup error, a timeout), -1 to 10000.
   * Poison records never get here: the relay dead-letters them itself. @default 10000
   */
  readonly retryAttempts?: number;
  /** Give up on records older than this (then the batch goes to the dead-letter queue), 60 s to 7 days. @default 24 hours, the stream's retention */
  readonly maxRecordAge?: Duration;
  /** PutEvents calls in flight at once, 1 to 50. @default 20 */
  readonly concurrency?: number;
  /** Largest PutEvents entry, 262144 to 1048576 bytes. @default 1048576 */
  readonly maxEntryBytes?: number;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default 60 seconds */
  readonly timeout?: Duration;
}

/** Alarms and dashboard. */
export interface OperationsProps {
  /** Create alarms on iterator age, relay errors and dead-letter depth. @default true */
  readonly alarms?: boolean;
  /** Topic the alarms notify. @default a new topic */
  readonly existingAlarmTopic?: sns.ITopic;
  /** Alarm when the relay lags more than this behind the stream. @default 5 minutes */
  readonly iteratorAgeThreshold?: Duration;
  /** Create a CloudWatch dashboard. @default true */
  readonly dashboard?: boolean;
}

export interface EventBoxProps extends OperationsProps {
  /** A table that already exists; it must have a stream with new images. @default a new table */
  readonly existingTable?: dynamodb.ITable;
  /** Overrides for the new table (string keys `pk`/`sk`, stream, TTL on `ttl`, PITR). */
  readonly tableProps?: Partial<dynamodb.TableProps>;
  /** More tables whose outbox items this relay publishes to the same bus (one per tenant, say). */
  readonly additionalTables?: readonly dynamodb.ITable[];
  /** A bus that already exists. @default a new bus */
  readonly existingEventBus?: events.IEventBus;
  /** Props for the new bus. */
  readonly eventBusProps?: events.EventBusProps;
  /** Keep every event this long in an archive for replay; `false` for none. @default 30 days (new bus only) */
  readonly archiveRetention?: Duration | false;
  readonly relay?: RelayProps;
}

/** Filter the relay's event source mapping applies: outbox INSERTs only. */
export const OUTBOX_INSERT_FILTER = lambda.FilterCriteria.filter({
  eventName: lambda.FilterRule.isEqual('INSERT'),
  dynamodb: { NewImage: { _eventbox: { S: lambda.FilterRule.isEqual('outbox') } } },
});

/**
 * The producer side of Eventbox: a table whose outbox items a relay function publishes,
 * from the table's stream, to an event bus; with a dead-letter queue for records that can
 * never be published, alarms and a dashboard.
 */
export class EventBox extends Construct {
  readonly table: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  readonly archive: events.Archive | undefined;
  readonly relayFunction: NodejsFunction;
  /** Poison records, and batches the event source mapping gave up on. */
  readonly deadLetterQueue: sqs.Queue;
  readonly alarmTopic: sns.ITopic | undefined;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard | undefined;
  readonly #serviceName: string;

  constructor(scope: Construct, id: string, props: EventBoxProps = {}) {
    super(scope, id);
    checkExclusive('existingTable', 'tableProps', {
      existing: props.existingTable,
      props: props.tableProps,
    });
    checkExclusive('existingEventBus', 'eventBusProps', {
      existing: props.existingEventBus,
      props: props.eventBusProps,
    });
    const relay = props.relay ?? {};
    checkRange('relay.batchSize', relay.batchSize, 1, 10_000);
    checkRange('relay.parallelizationFactor', relay.parallelizationFactor, 1, 10);
    checkRange('relay.retryAttempts', relay.retryAttempts, -1, 10_000);
    checkRange('relay.concurrency', relay.concurrency, 1, 50);
    checkRange('relay.maxEntryBytes', relay.maxEntryBytes, 262_144, 1_048_576);
    checkRange('relay.memorySize', relay.memorySize, 128, 10_240);
    const maxRecordAge = relay.maxRecordAge ?? Duration.hours(24);
    if (!maxRecordAge.isUnresolved())
      checkRange('relay.maxRecordAge (seconds)', maxRecordAge.toSeconds(), 60, 604_800);
    if (relay.maxBatchingWindow && !relay.maxBatchingWindow.isUnresolved()) {
      checkRange('relay.maxBatchingWindow (seconds)', relay.maxBatchingWindow.toSeconds(), 0, 300);
    }
    for (const [i, table] of [props.existingTable, ...(props.additionalTables ?? [])].entries()) {
      if (table && !table.tableStreamArn) {
        throw new Error(
          `${i === 0 ? 'existingTable' : `additionalTables[${i - 1}]`} (${table.node.path}) has no stream; enable one with NEW_IMAGE or NEW_AND_OLD_IMAGES`,
        );
      }
    }

    this.table =
      props.existingTable ??
      eventboxTable(this, 'Table', {
        stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        ...props.tableProps,
      });

    this.eventBus = props.existingEventBus ?? new events.EventBus(this, 'Bus', props.eventBusProps);
    const retention =
      props.archiveRetention ?? (props.existingEventBus ? false : Duration.days(30));
    const leaveOutArchive = retention !== false && deploysToEmulator(this);
    if (leaveOutArchive) {
      Annotations.of(this).addInfo(
        'Deploying to the local emulator (eventbox:emulator): the bus archive is left out, a resource type its CloudFormation does not know',
      );
    }
    this.archive =
      retention === false || leaveOutArchive
        ? undefined
        : new events.Archive(this, 'Archive', {
            sourceEventBus: this.eventBus,
            eventPattern: { account: [Stack.of(this).account] },
            retention,
            description: 'Every event published by the Eventbox relay, for replay',
          });

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue');

    this.#serviceName = `eventbox-relay-${this.node.addr.slice(0, 8)}`;
    this.relayFunction = new NodejsFunction(this, 'Relay', {
      ...eventboxFunctionDefaults,
      entry: relay.entry ?? eventboxEntry('relay/index'),
      handler: 'handler',
      memorySize: relay.memorySize ?? 512,
      timeout: relay.timeout ?? DEFAULT_RELAY_TIMEOUT,
      description: 'Eventbox relay: outbox INSERTs from DynamoDB Streams to EventBridge',
      logGroup: new logs.LogGroup(this, 'RelayLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      environment: {
        ...eventboxFunctionDefaults.environment,
        EVENT_BUS_NAME: this.eventBus.eventBusName,
        DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
        POWERTOOLS_SERVICE_NAME: this.#serviceName,
        ...(relay.concurrency === undefined ? {} : { CONCURRENCY: String(relay.concurrency) }),
        ...(relay.maxEntryBytes === undefined
          ? {}
          : { MAX_ENTRY_BYTES: String(relay.maxEntryBytes) }),
      },
    });
    this.eventBus.grantPutEventsTo(this.relayFunction);
    this.deadLetterQueue.grantSendMessages(this.relayFunction);

    for (const table of [this.table, ...(props.additionalTables ?? [])]) {
      this.relayFunction.addEventSource(
        new DynamoEventSource(table, {
          startingPosition: lambda.StartingPosition.TRIM_HORIZON,
          batchSize: relay.batchSize ?? 1000,
          ...(relay.maxBatchingWindow ? { maxBatchingWindow: relay.maxBatchingWindow } : {}),
          parallelizationFactor: relay.parallelizationFactor ?? 1,
          bisectBatchOnError: true,
          retryAttempts: relay.retryAttempts ?? 10_000,
          maxRecordAge,
          reportBatchItemFailures: true,
          onFailure: new SqsDlq(this.deadLetterQueue),
          filters: [OUTBOX_INSERT_FILTER],
        }),
      );
    }

    const wantsAlarms = props.alarms ?? true;
    this.alarmTopic = wantsAlarms
      ? (props.existingAlarmTopic ?? new sns.Topic(this, 'AlarmTopic', { enforceSSL: true }))
      : undefined;
    this.alarms = wantsAlarms
      ? this.#createAlarms(props.iteratorAgeThreshold ?? Duration.minutes(5))
      : [];
    this.dashboard = (props.dashboard ?? true) ? this.#createDashboard() : undefined;
  }

  /** Lets a producer write entities and outbox items: PutItem, UpdateItem, DeleteItem, ConditionCheckItem. */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    this.table.grant(grantee, 'dynamodb:ConditionCheckItem');
    return this.table.grantWriteData(grantee);
  }

  /** Lets a producer read and write (ConditionCheckItem included): what a unit of work that reads its entities first needs. */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadWriteData(grantee);
  }

  /** How far behind the stream the relay is (maximum). */
  metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relayFunction.metric('IteratorAge', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Relay invocations that failed as a whole. */
  metricRelayErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relayFunction.metricErrors({ period: Duration.minutes(1), ...props });
  }

  /** Records waiting in the dead-letter queue. */
  metricDeadLetterDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Events the relay published (the relay's own EMF metric). */
  metricEventsPublished(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.#relayMetric('EventsPublished', props);
  }

  /** Entries EventBridge rejected, whatever the code. */
  metricPublishErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.#relayMetric('PublishErrors', props);
  }

  #relayMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'Eventbox',
      metricName,
      dimensionsMap: { service: this.#serviceName },
      statistic: 'Sum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  #createAlarms(iteratorAgeThreshold: Duration): cloudwatch.Alarm[] {
    const alarms = [
      this.metricIteratorAge().createAlarm(this, 'IteratorAgeAlarm', {
        threshold: iteratorAgeThreshold.toMilliseconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        alarmDescription: 'The Eventbox relay is falling behind the table stream',
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      this.metricRelayErrors().createAlarm(this, 'RelayErrorsAlarm', {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: 'The Eventbox relay failed whole batches',
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      this.metricDeadLetterDepth().createAlarm(this, 'DeadLetterAlarm', {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription:
          'Records the Eventbox relay could not publish are waiting in its dead-letter queue',
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
    if (this.alarmTopic) {
      const action = new SnsAction(this.alarmTopic);
      for (const alarm of alarms) alarm.addAlarmAction(action);
    }
    return alarms;
  }

  #createDashboard(): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Relay iterator age (max)',
        left: [this.metricIteratorAge()],
      }),
      new cloudwatch.GraphWidget({
        title: 'Events published',
        left: [this.metricEventsPublished()],
      }),
      new cloudwatch.GraphWidget({
        title: 'Publish errors',
        left: [this.metricPublishErrors()],
        right: [this.metricRelayErrors()],
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter depth',
        left: [this.metricDeadLetterDepth()],
      }),
    );
    return dashboard;
  }
}
