import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RelayCalls } from '../../lib/relay/calls.js';
import { RelayEnvironment } from '../../lib/relay/environment.js';
import { METRICS_NAMESPACE } from '../../lib/shared/metrics-namespace.js';
import { DEFAULT_RELAY_TIMEOUT, eventboxFunctionDefaults } from './bundling.js';
import { functionLogGroup } from './encryption.js';
import { SendOnlyQueueDestination, streamMapping } from './event-sources.js';
import { eventboxEntry } from './function-entry.js';
import { ownLogsRole } from './function-role.js';
import { grantQueueActions } from './grants.js';
import { deadLetterQueue, ensureOutboxIndex } from './resources.js';
import { markRole, ResourceRole } from './roles.js';
import { checkRange, InvalidPropsError } from './validation.js';

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
  /**
   * Wait up to this long to fill a batch, 0 to 300 s. Lambda polls each shard four times a
   * second and takes what is there, so under load batches fill without a window; at low
   * traffic a window adds its length to every event's latency to save invocations.
   * @default no wait
   */
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
  /** 10 s to 15 minutes. @default 60 seconds */
  readonly timeout?: Duration;
}

/** Filter the relay's event source mappings apply: outbox INSERTs only. */
export const OUTBOX_INSERT_FILTER = lambda.FilterCriteria.filter({
  eventName: lambda.FilterRule.isEqual('INSERT'),
  dynamodb: { NewImage: { _eventbox: { S: lambda.FilterRule.isEqual('outbox') } } },
});

/** Throws, quoting the bad value and the range, for every relay prop out of its range. */
export function validateRelayProps(relay: RelayProps): void {
  checkRange('relay.batchSize', relay.batchSize, 1, 10_000);
  checkRange('relay.parallelizationFactor', relay.parallelizationFactor, 1, 10);
  checkRange('relay.retryAttempts', relay.retryAttempts, -1, 10_000);
  checkRange('relay.concurrency', relay.concurrency, 1, 50);
  checkRange('relay.maxEntryBytes', relay.maxEntryBytes, 262_144, 1_048_576);
  checkRange('relay.memorySize', relay.memorySize, 128, 10_240);
  const durations: Array<[string, Duration | undefined, number, number]> = [
    ['relay.maxRecordAge', relay.maxRecordAge, 60, 604_800],
    ['relay.maxBatchingWindow', relay.maxBatchingWindow, 0, 300],
    ['relay.timeout', relay.timeout, 10, 900],
  ];
  for (const [name, duration, min, max] of durations) {
    if (duration && !duration.isUnresolved())
      checkRange(`${name} (seconds)`, duration.toSeconds(), min, max);
  }
}

/**
 * The stream view type of a table this app defines, when it can be known at synth time;
 * undefined for an imported table or one whose stream is a token.
 */
function streamViewTypeOf(table: dynamodb.ITable): string | undefined {
  const resource = table.node.defaultChild;
  if (resource instanceof dynamodb.CfnTable) {
    const spec = resource.streamSpecification;
    if (spec === undefined || Token.isUnresolved(spec)) return undefined;
    return (spec as dynamodb.CfnTable.StreamSpecificationProperty).streamViewType;
  }
  if (resource instanceof dynamodb.CfnGlobalTable) {
    const spec = resource.streamSpecification;
    if (spec === undefined || Token.isUnresolved(spec)) return undefined;
    return (spec as dynamodb.CfnGlobalTable.StreamSpecificationProperty).streamViewType;
  }
  return undefined;
}

/**
 * Throws unless the table has a stream the relay can read: one with new images, since the
 * event source mapping filters on `NewImage._eventbox` and would drop every record of a
 * KEYS_ONLY or OLD_IMAGE stream before the relay saw it.
 */
export function checkRelayableStream(table: dynamodb.ITable, what: string): void {
  if (!table.tableStreamArn) {
    throw new InvalidPropsError(
      `${what} (${table.node.path}) has no stream; enable one with NEW_IMAGE or NEW_AND_OLD_IMAGES`,
    );
  }
  const viewType = streamViewTypeOf(table);
  if (viewType !== undefined && viewType !== 'NEW_IMAGE' && viewType !== 'NEW_AND_OLD_IMAGES') {
    throw new InvalidPropsError(
      `${what} (${table.node.path}) has a stream of view type ${viewType}; the relay needs NEW_IMAGE or NEW_AND_OLD_IMAGES, since it filters on the new image`,
    );
  }
}

export interface EventBoxRelayProps {
  /** The bus events are published to. */
  readonly eventBus: events.IEventBus;
  /** Names the relay in its metrics (Powertools service). */
  readonly serviceName: string;
  readonly relay?: RelayProps;
  /** Encrypts the dead-letter queue and the log group with this customer-managed key. @default SQS's own key, CloudWatch Logs' own */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The relay of one or more tables' outbox items to a bus: the function, its dead-letter
 * queue, and an event source mapping per table, filtered to outbox INSERTs. Granted read
 * of its streams, PutEvents on its bus and SendMessage to its dead-letter queue, nothing else.
 */
export class EventBoxRelay extends Construct {
  readonly function: NodejsFunction;
  /** Poison records, and batches the event source mapping gave up on. */
  readonly deadLetterQueue: sqs.Queue;
  readonly eventBus: events.IEventBus;
  readonly serviceName: string;
  readonly #props: RelayProps;
  readonly #tables: dynamodb.ITable[] = [];

  constructor(scope: Construct, id: string, props: EventBoxRelayProps) {
    super(scope, id);
    const relay = props.relay ?? {};
    validateRelayProps(relay);
    this.#props = relay;
    this.eventBus = props.eventBus;
    this.serviceName = props.serviceName;
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', props.encryptionKey);
    const logGroup = functionLogGroup(this, 'Logs', props.encryptionKey, {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, 'Function', {
      ...eventboxFunctionDefaults,
      entry: relay.entry ?? eventboxEntry('relay/index'),
      handler: 'handler',
      memorySize: relay.memorySize ?? 512,
      timeout: relay.timeout ?? DEFAULT_RELAY_TIMEOUT,
      description: 'Eventbox relay: outbox INSERTs from DynamoDB Streams to EventBridge',
      logGroup,
      role: ownLogsRole(this, 'Role', logGroup),
      environment: {
        ...eventboxFunctionDefaults.environment,
        [RelayEnvironment.eventBusName]: this.eventBus.eventBusName,
        [RelayEnvironment.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [RelayEnvironment.serviceName]: this.serviceName,
        ...(relay.concurrency === undefined
          ? {}
          : { [RelayEnvironment.concurrency]: String(relay.concurrency) }),
        ...(relay.maxEntryBytes === undefined
          ? {}
          : { [RelayEnvironment.maxEntryBytes]: String(relay.maxEntryBytes) }),
      },
    });
    this.eventBus.grantPutEventsTo(this.function);
    grantQueueActions(this.deadLetterQueue, this.function, RelayCalls.deadLetterQueue);
    markRole(this.function, ResourceRole.relayFunction, { relay: this.serviceName });
    markRole(this.deadLetterQueue, ResourceRole.relayDeadLetterQueue, { relay: this.serviceName });
  }

  /** The tables whose streams this relay reads. */
  get tables(): readonly dynamodb.ITable[] {
    return [...this.#tables];
  }

  /**
   * Relays one more table's outbox items, with the same settings. Its stream must have new
   * images; a table defined in the app gets the by-time index `outbox replay` reads; a
   * table already relayed here is not added twice.
   */
  addTable(table: dynamodb.ITable, what = 'table'): void {
    if (this.#tables.includes(table)) return;
    checkRelayableStream(table, what);
    ensureOutboxIndex(table, what);
    this.#tables.push(table);
    const relay = this.#props;
    streamMapping(
      this.function,
      table,
      {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: relay.batchSize ?? 1000,
        ...(relay.maxBatchingWindow ? { maxBatchingWindow: relay.maxBatchingWindow } : {}),
        parallelizationFactor: relay.parallelizationFactor ?? 1,
        bisectBatchOnError: true,
        retryAttempts: relay.retryAttempts ?? 10_000,
        maxRecordAge: relay.maxRecordAge ?? Duration.hours(24),
        reportBatchItemFailures: true,
        onFailure: new SendOnlyQueueDestination(this.deadLetterQueue),
        filters: [OUTBOX_INSERT_FILTER],
      },
      RelayCalls.stream,
    );
  }

  /** How far behind its streams the relay is (maximum). */
  metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metric('IteratorAge', {
      statistic: 'Maximum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Relay invocations that failed as a whole. */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricErrors({ period: Duration.minutes(1), ...props });
  }

  /** Records waiting in the dead-letter queue. */
  metricDeadLetterDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** One of the relay's own metrics: EventsPublished, PublishErrors, PoisonRecords, PublishTime, BatchSize. */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: 'Sum',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Iterator age over the threshold, whole-batch errors, and dead letters waiting. */
  createAlarms(iteratorAgeThreshold: Duration, description: string): cloudwatch.Alarm[] {
    return [
      this.metricIteratorAge().createAlarm(this, 'IteratorAgeAlarm', {
        threshold: iteratorAgeThreshold.toMilliseconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        alarmDescription: `${description} is falling behind its table stream`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      this.metricErrors().createAlarm(this, 'ErrorsAlarm', {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `${description} failed whole batches`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      this.metricDeadLetterDepth().createAlarm(this, 'DeadLetterAlarm', {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `Records ${description} could not publish are waiting in its dead-letter queue`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }
}
