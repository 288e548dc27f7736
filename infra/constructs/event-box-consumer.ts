import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { type BundlingOptions, NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConsumerCalls } from '../../lib/consumer/calls.js';
import { ConsumerEnvironment, ConsumerMetrics } from '../../lib/consumer/environment.js';
import { METRICS_NAMESPACE } from '../../lib/shared/metrics-namespace.js';
import { eventboxFunctionDefaults } from './bundling.js';
import { alarmTopic, functionLogGroup, queueEncryption, tableEncryption } from './encryption.js';
import { EventBox } from './event-box.js';
import { queueMapping } from './event-sources.js';
import { ownLogsRole } from './function-role.js';
import { grantItemActions, grantQueueActions } from './grants.js';
import { EventBoxQueueTarget } from './queue-target.js';
import { EventBoxRelay, type RelayProps } from './relay.js';
import { addOutboxIndex, deadLetterQueue, eventboxTable } from './resources.js';
import { markRole, ResourceRole } from './roles.js';
import {
  checkExclusive,
  checkOwnEnvironment,
  checkRange,
  checkSeconds,
  InvalidPropsError,
} from './validation.js';

export interface EventBoxConsumerProps {
  /** Names the consumer in inbox records, metrics and resources: letters, digits, ".", "_", "-". */
  readonly consumerName: string;
  /** The bus the events come from. */
  readonly eventBus: events.IEventBus;
  /** Which events this consumer receives. */
  readonly eventPattern: events.EventPattern;
  /** The handler's source file, bundled with esbuild (a module exporting a `withInbox` handler). */
  readonly entry: string;
  /** The exported handler. @default 'handler' */
  readonly handler?: string;
  /**
   * esbuild options for the handler's bundle, each one replacing Eventbox's: ESM, minified,
   * the AWS SDK bundled, ES module builds of dependencies first (`mainFields`), and a
   * `require` for bundled CommonJS (`banner`). @default Eventbox's
   */
  readonly bundling?: BundlingOptions;
  /** A table that already exists for inbox records and the consumer's entities. @default a new table */
  readonly existingTable?: dynamodb.ITable;
  /** Overrides for the new table (string keys `pk`/`sk`, TTL on `ttl`, PITR). */
  readonly tableProps?: Partial<dynamodb.TableProps>;
  /** Messages per invocation, 1 to 10000 (over 10 needs `maxBatchingWindow`). @default 10 */
  readonly batchSize?: number;
  /** @default no wait */
  readonly maxBatchingWindow?: Duration;
  /** Most concurrent invocations the queue may drive, 2 to 1000. @default no limit */
  readonly maxConcurrency?: number;
  /**
   * How long an event may wait for what it needs (its predecessor, say) from its first
   * "not yet", before it is dead-lettered with its reason: size it to how far apart in time
   * related events can arrive. The queue's `maxReceiveCount` does not cut it short.
   * @default Duration.hours(1)
   */
  readonly notYetMaxWait?: Duration;
  /** A cap on "not yet" answers as well, 1 to 1000; counted per event, apart from other retries. @default none */
  readonly notYetMaxAttempts?: number;
  /** Backoff of "not yet" retries: min(cap, base × 2^(attempt−1)) seconds, half jittered. @default { baseSeconds: 2, capSeconds: 300 } */
  readonly notYetBackoff?: { readonly baseSeconds?: number; readonly capSeconds?: number };
  /**
   * The queue's redrive `maxReceiveCount`: room for lost version races, lock waits and
   * failures. On the last delivery the consumer dead-letters a message that would come back,
   * with its reason; one that may still wait "not yet" is sent to the queue again instead.
   * Above `notYetMaxAttempts` when that is set. @default 20, or notYetMaxAttempts + 10
   */
  readonly maxReceiveCount?: number;
  /** @default 30 seconds; the queue's visibility timeout is six times this */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /**
   * More environment variables for the handler. Names Eventbox sets itself (`EVENTBOX_…`,
   * and `POWERTOOLS_SERVICE_NAME`, the consumer's metrics dimension) are refused.
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** Create alarms on dead-letter depth, function errors and retries. @default true */
  readonly alarms?: boolean;
  /** Topic the alarms notify. @default a new topic */
  readonly existingAlarmTopic?: sns.ITopic;
  /** Alarm when "not yet" retries, or conflict retries, exceed this in 5 minutes. @default 100 */
  readonly retriesAlarmThreshold?: number;
  /** Add this consumer's widgets to a dashboard (the EventBox's, say). */
  readonly dashboard?: cloudwatch.Dashboard;
  /**
   * Where the events the handler publishes (`ctx.tx.publish`) go. An `EventBox`: its relay
   * reads this consumer's table too and publishes to its bus. A bus: this consumer gets a
   * relay of its own (with the box relay's settings, dead-letter queue and alarms). Either way
   * the table gets a NEW_AND_OLD_IMAGES stream. Without it, a publish fails loudly with
   * `OutboxDisabledError` and the event is dead-lettered with that reason.
   * @default nowhere
   */
  readonly publishTo?: EventBox | events.IEventBus;
  /** Settings of this consumer's own relay, when `publishTo` is a bus. */
  readonly relay?: RelayProps;
  /**
   * How long inbox records remember an event. Every redelivery of an event must come
   * within it, or the event applies twice: EventBridge's retries (a day), an outbox replay
   * (the outbox keeps 7 days) and an archive replay (the box's archive retention).
   * @default the longest of those the stack has: 30 days with the EventBox's archive, 7 without
   */
  readonly inboxTtl?: Duration;
  /**
   * A customer-managed KMS key for the new table, the queue, the dead-letter queue, the new
   * alarm topic, the function's log group and the consumer's own relay. Its key policy gets
   * statements letting this consumer's rule (and no other) deliver to the queues, this
   * account's CloudWatch alarms publish to the topic and its log groups be encrypted; the
   * function is granted the KMS actions its calls need. An imported key's policy cannot be
   * changed here: a warning says what it must allow.
   * @default DynamoDB's owned key (table), SQS's own key (queues), CloudWatch Logs' own,
   * and an unencrypted alarm topic (with a warning: alarms need a customer-managed key)
   */
  readonly encryptionKey?: kms.IKey;
}

/** The outbox keeps events this long by default, so an outbox replay reaches this far back. */
const OUTBOX_REPLAY_REACH = Duration.days(7);

/**
 * The consumer side: rule → SQS queue (with a dead-letter queue) → consumer function whose
 * `withInbox` handler applies each event exactly once, with its inbox table and alarms.
 */
export class EventBoxConsumer extends Construct {
  readonly table: dynamodb.ITable;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: NodejsFunction;
  readonly rule: events.Rule;
  readonly alarmTopic: sns.ITopic | undefined;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly consumerName: string;
  /** How long its inbox records live: at least as long as any redelivery of the stack. */
  readonly inboxTtl: Duration;
  /** The relay that publishes this consumer's outbox items, when it has `publishTo`. */
  readonly relay: EventBoxRelay | undefined;

  constructor(scope: Construct, id: string, props: EventBoxConsumerProps) {
    super(scope, id);
    const { maxReceiveCount } = checkConsumerProps(props);
    this.consumerName = props.consumerName;
    this.inboxTtl = this.#inboxTtl(props);
    const maxWait = props.notYetMaxWait ?? Duration.hours(1);
    if (!maxWait.isUnresolved() && maxWait.toSeconds() >= this.inboxTtl.toSeconds())
      throw new InvalidPropsError(
        `notYetMaxWait of consumer ${props.consumerName} is ${maxWait.toSeconds()} s, not below its inboxTtl (${this.inboxTtl.toSeconds()} s): the wait is kept in an item that expires with the inbox record`,
      );

    if (props.existingTable) this.table = props.existingTable;
    else {
      const table = eventboxTable(this, 'Table', {
        ...(props.publishTo ? { stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES } : {}),
        ...tableEncryption(props.encryptionKey),
        ...props.tableProps,
      });
      if (props.publishTo) addOutboxIndex(table);
      this.table = table;
    }
    if (props.publishTo instanceof EventBox) {
      props.publishTo.relayTable(this.table);
      this.relay = props.publishTo.relay;
    } else if (props.publishTo) {
      this.relay = new EventBoxRelay(this, 'Relay', {
        eventBus: props.publishTo,
        serviceName: `eventbox-relay-${props.consumerName}`,
        ...(props.relay ? { relay: props.relay } : {}),
        ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      });
      this.relay.addTable(this.table, `the table of consumer ${props.consumerName}`);
    }

    const timeout = props.timeout ?? Duration.seconds(30);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetterQueue', props.encryptionKey);
    this.queue = new sqs.Queue(this, 'Queue', {
      // Six times the function timeout, as Lambda recommends for SQS event sources.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(14),
      ...queueEncryption(props.encryptionKey),
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    const logGroup = functionLogGroup(this, 'Logs', props.encryptionKey, {
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new NodejsFunction(this, 'Function', {
      ...eventboxFunctionDefaults,
      entry: props.entry,
      handler: props.handler ?? 'handler',
      bundling: { ...eventboxFunctionDefaults.bundling, ...props.bundling },
      timeout,
      memorySize: props.memorySize ?? 512,
      description: `Eventbox consumer ${props.consumerName}`,
      logGroup,
      role: ownLogsRole(this, 'Role', logGroup),
      environment: {
        ...eventboxFunctionDefaults.environment,
        ...props.environment,
        ...this.#runtimeEnvironment(props, { maxWait, maxReceiveCount }),
      },
    });
    // Exactly what the runtime calls (lib/consumer/calls.ts), resource by resource.
    const calls = this.runtimeCalls();
    grantItemActions(this.table, this.function, calls.table);
    grantQueueActions(this.deadLetterQueue, this.function, calls.deadLetterQueue);
    queueMapping(
      this.function,
      this.queue,
      {
        batchSize: props.batchSize ?? 10,
        ...(props.maxBatchingWindow ? { maxBatchingWindow: props.maxBatchingWindow } : {}),
        ...(props.maxConcurrency ? { maxConcurrency: props.maxConcurrency } : {}),
      },
      calls.queue,
    );

    const consumer = { consumer: props.consumerName };
    if (!props.existingTable) markRole(this.table, ResourceRole.consumerTable, consumer);
    markRole(this.queue, ResourceRole.consumerQueue, consumer);
    markRole(this.deadLetterQueue, ResourceRole.consumerDeadLetterQueue, consumer);
    markRole(this.function, ResourceRole.consumerFunction, consumer);

    this.rule = new events.Rule(this, 'Rule', {
      eventBus: props.eventBus,
      eventPattern: props.eventPattern,
      // Under a key, named, so that the key policy can name the rule's ARN (see
      // EventBoxQueueTarget); otherwise CloudFormation names it and may replace it.
      ...(props.encryptionKey
        ? { ruleName: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }) }
        : {}),
      description: `Events for the Eventbox consumer ${props.consumerName}`,
      targets: [
        new EventBoxQueueTarget(this.queue, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });

    const wantsAlarms = props.alarms ?? true;
    this.alarmTopic = wantsAlarms
      ? (props.existingAlarmTopic ?? alarmTopic(this, 'AlarmTopic', props.encryptionKey))
      : undefined;
    // A relay of our own alarms like the box's; a box's relay already has its alarms.
    const ownRelay = this.relay && !(props.publishTo instanceof EventBox) ? this.relay : undefined;
    this.alarms = wantsAlarms
      ? [
          ...this.#createAlarms(props.retriesAlarmThreshold ?? 100),
          ...(ownRelay?.createAlarms(
            Duration.minutes(5),
            `The relay of consumer ${props.consumerName}`,
          ) ?? []),
        ]
      : [];
    if (this.alarmTopic) {
      const action = new SnsAction(this.alarmTopic);
      for (const alarm of this.alarms) alarm.addAlarmAction(action);
    }
    if (props.dashboard) this.#addWidgets(props.dashboard);
  }

  /** What the runtime reads (`ConsumerEnvironment`): its table, queues, and "not yet" budget. */
  #runtimeEnvironment(
    props: EventBoxConsumerProps,
    settings: { readonly maxWait: Duration; readonly maxReceiveCount: number },
  ): Record<string, string> {
    const { maxWait, maxReceiveCount } = settings;
    const { notYetMaxAttempts } = props;
    return {
      [ConsumerEnvironment.tableName]: this.table.tableName,
      [ConsumerEnvironment.consumerName]: props.consumerName,
      [ConsumerEnvironment.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
      [ConsumerEnvironment.queueUrl]: this.queue.queueUrl,
      [ConsumerEnvironment.notYetMaxWaitSeconds]: String(maxWait.toSeconds()),
      ...(notYetMaxAttempts === undefined
        ? {}
        : { [ConsumerEnvironment.notYetMaxAttempts]: String(notYetMaxAttempts) }),
      [ConsumerEnvironment.maxReceiveCount]: String(maxReceiveCount),
      [ConsumerEnvironment.inboxTtlSeconds]: String(this.inboxTtl.toSeconds()),
      ...(props.notYetBackoff?.baseSeconds === undefined
        ? {}
        : {
            [ConsumerEnvironment.notYetBackoffBaseSeconds]: String(props.notYetBackoff.baseSeconds),
          }),
      ...(props.notYetBackoff?.capSeconds === undefined
        ? {}
        : {
            [ConsumerEnvironment.notYetBackoffCapSeconds]: String(props.notYetBackoff.capSeconds),
          }),
      [ConsumerEnvironment.serviceName]: props.consumerName,
      [ConsumerEnvironment.metricsNamespace]: METRICS_NAMESPACE,
      [ConsumerEnvironment.outboxRelayed]: props.publishTo ? 'true' : 'false',
    };
  }

  #addWidgets(dashboard: cloudwatch.Dashboard): void {
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${this.consumerName}: handled and duplicates`,
        left: [
          this.metric(ConsumerMetrics.handled),
          this.metric(ConsumerMetrics.duplicates),
          this.metric(ConsumerMetrics.staleSkipped),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: `${this.consumerName}: retries`,
        left: [this.metricRetries()],
        right: [this.metricDeadLetterDepth()],
      }),
    );
  }

  /** The IAM actions the function's code calls, per resource: it is granted these and no more. */
  protected runtimeCalls(): {
    readonly table: readonly string[];
    readonly queue: readonly string[];
    readonly deadLetterQueue: readonly string[];
  } {
    return ConsumerCalls;
  }

  /**
   * The inbox TTL: `inboxTtl`, or by default the longest redelivery path that reaches this
   * consumer (outbox replay, the archive of the box whose bus it reads); a shorter
   * `inboxTtl` is refused with what must be raised.
   */
  #inboxTtl(props: EventBoxConsumerProps): Duration {
    const [what, longest] = this.#longestRedelivery(props);
    const ttl = props.inboxTtl ?? longest;
    const short = this.#tooShort(props, ttl, what, longest);
    if (short) throw new InvalidPropsError(short);
    return ttl;
  }

  /** The redelivery path that reaches furthest back, and how far. */
  #longestRedelivery(props: EventBoxConsumerProps): [string, Duration] {
    // The whole app: the box whose bus this consumer reads may be in another stack. It
    // exists already, since its bus is what this consumer was given.
    const box = this.node.root.node
      .findAll()
      .find((c): c is EventBox => c instanceof EventBox && c.eventBus === props.eventBus);
    const paths: Array<[string, Duration]> = [['an outbox replay', OUTBOX_REPLAY_REACH]];
    if (box?.archiveRetention)
      paths.push(["an archive replay (the box's archive retention)", box.archiveRetention]);
    return paths.reduce((a, b) => (b[1].toSeconds() > a[1].toSeconds() ? b : a));
  }

  #tooShort(
    props: EventBoxConsumerProps,
    ttl: Duration,
    what: string,
    longest: Duration,
  ): string | undefined {
    if (ttl.isUnresolved() || ttl.toSeconds() >= longest.toSeconds()) return undefined;
    const days = (d: Duration) => d.toDays({ integral: false });
    return `inboxTtl of consumer ${props.consumerName} is ${days(ttl)} days but ${what} redelivers events up to ${days(longest)} days old, which would then apply twice; raise inboxTtl to at least ${days(longest)} days${what.startsWith('an archive') ? ' or shorten the archiveRetention' : ''}`;
  }

  /** One of the inbox's own metrics: Handled, Duplicates, StaleSkipped, NotYetRetries, ConflictRetries, DeadLettered, Failures. */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.consumerName },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** "Not yet" and conflict retries together. */
  metricRetries(props?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'FILL(notYet, 0) + FILL(conflicts, 0)',
      usingMetrics: {
        notYet: this.metric(ConsumerMetrics.notYetRetries),
        conflicts: this.metric(ConsumerMetrics.conflictRetries),
      },
      label: 'Retries',
      period: Duration.minutes(5),
      ...props,
    });
  }

  metricDeadLetterDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      ...props,
    });
  }

  #createAlarms(retriesThreshold: number): cloudwatch.Alarm[] {
    const alarms = [
      this.metricDeadLetterDepth().createAlarm(this, 'DeadLetterAlarm', {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `Messages the consumer ${this.consumerName} could not handle are in its dead-letter queue`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      this.function.metricErrors({ period: Duration.minutes(5) }).createAlarm(this, 'ErrorsAlarm', {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `The consumer ${this.consumerName} failed whole invocations`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      // One alarm per kind of retry: simple metrics, which every CloudWatch implementation evaluates.
      ...(['NotYetRetries', 'ConflictRetries'] as const).map((name) =>
        this.metric(name).createAlarm(this, `${name}Alarm`, {
          threshold: retriesThreshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          alarmDescription: `The consumer ${this.consumerName} keeps retrying events (${name})`,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      ),
    ];
    return alarms;
  }
}

/**
 * Refuses props the consumer cannot honour, each with what to change, before anything is
 * created; the receive count covers the "not yet" attempts with room for failures.
 */
function checkConsumerProps(props: EventBoxConsumerProps): { readonly maxReceiveCount: number } {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(props.consumerName)) {
    throw new InvalidPropsError(
      `consumerName must be 1 to 64 letters, digits, ".", "_" or "-"; got "${props.consumerName}"`,
    );
  }
  checkExclusive('existingTable', 'tableProps', {
    existing: props.existingTable,
    props: props.tableProps,
  });
  const notYetMaxAttempts = props.notYetMaxAttempts;
  checkRange('notYetMaxAttempts', notYetMaxAttempts, 1, 1000);
  checkSeconds('notYetMaxWait', props.notYetMaxWait, 1, 14 * 24 * 3600);
  const maxReceiveCount = props.maxReceiveCount ?? (notYetMaxAttempts ?? 10) + 10;
  checkRange('maxReceiveCount', maxReceiveCount, (notYetMaxAttempts ?? 0) + 1, 1000);
  checkRange('batchSize', props.batchSize, 1, 10_000);
  checkRange('notYetBackoff.baseSeconds', props.notYetBackoff?.baseSeconds, 0, 43_200);
  checkRange('notYetBackoff.capSeconds', props.notYetBackoff?.capSeconds, 0, 43_200);
  checkRange('maxConcurrency', props.maxConcurrency, 2, 1000);
  checkRange('memorySize', props.memorySize, 128, 10_240);
  checkSeconds('timeout', props.timeout, 1, 900);
  checkSeconds('maxBatchingWindow', props.maxBatchingWindow, 0, 300);
  checkOwnEnvironment(`consumer ${props.consumerName}`, props.environment);
  if ((props.batchSize ?? 10) > 10 && !props.maxBatchingWindow) {
    throw new InvalidPropsError(
      `batchSize over 10 needs maxBatchingWindow; got batchSize ${props.batchSize}`,
    );
  }
  if (props.relay && !(props.publishTo && !(props.publishTo instanceof EventBox))) {
    throw new InvalidPropsError(
      'relay props need publishTo to be a bus: with an EventBox its relay publishes, with no publishTo nothing does',
    );
  }
  return { maxReceiveCount };
}
