import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RelayMetrics } from '../../lib/relay/environment.js';
import { deploysToEmulator } from './emulator.js';
import { alarmTopic, tableEncryption } from './encryption.js';
import { grantItemActions, ITEM_READ_WRITE } from './grants.js';
import { EventBoxRelay, type RelayProps } from './relay.js';
import { addOutboxIndex, eventboxTable } from './resources.js';
import { markRole, ResourceRole } from './roles.js';
import { checkExclusive } from './validation.js';

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
  /**
   * A customer-managed KMS key for the new table, the relay's dead-letter queue and log
   * group, and the new alarm topic. Its key policy gets statements letting this account's
   * CloudWatch alarms publish to the topic and its log groups be encrypted; the relay is
   * granted the KMS actions its calls need. An imported key's policy cannot be changed
   * here: a warning says what it must allow.
   * @default DynamoDB's owned key (table), SQS's own key (queue), CloudWatch Logs' own, and
   * an unencrypted alarm topic (with a warning: alarms need a customer-managed key)
   */
  readonly encryptionKey?: kms.IKey;
}

export { OUTBOX_INSERT_FILTER, type RelayProps } from './relay.js';

/**
 * The producer side of Eventbox: a table whose outbox items a relay function publishes,
 * from the table's stream, to an event bus; with a dead-letter queue for records that can
 * never be published, alarms and a dashboard.
 */
export class EventBox extends Construct {
  readonly table: dynamodb.ITable;
  readonly eventBus: events.IEventBus;
  readonly archive: events.Archive | undefined;
  /**
   * How long the archive keeps events (as configured, also when the emulator leaves the
   * archive out): an archive replay redelivers events this old, so the consumers' inbox
   * must remember them as long.
   */
  readonly archiveRetention: Duration | undefined;
  /** The relay: its function, dead-letter queue and the tables it reads. */
  readonly relay: EventBoxRelay;
  readonly relayFunction: NodejsFunction;
  /** Poison records, and batches the event source mapping gave up on. */
  readonly deadLetterQueue: sqs.Queue;
  readonly alarmTopic: sns.ITopic | undefined;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly dashboard: cloudwatch.Dashboard | undefined;

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
    if (props.existingTable) this.table = props.existingTable;
    else {
      const table = eventboxTable(this, 'Table', {
        stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        ...tableEncryption(props.encryptionKey),
        ...props.tableProps,
      });
      addOutboxIndex(table);
      this.table = table;
    }

    this.eventBus = props.existingEventBus ?? new events.EventBus(this, 'Bus', props.eventBusProps);
    const retention =
      props.archiveRetention ?? (props.existingEventBus ? false : Duration.days(30));
    this.archiveRetention = retention === false ? undefined : retention;
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

    this.relay = new EventBoxRelay(this, 'Relay', {
      eventBus: this.eventBus,
      serviceName: `eventbox-relay-${this.node.addr.slice(0, 8)}`,
      ...(props.relay ? { relay: props.relay } : {}),
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    });
    this.relayFunction = this.relay.function;
    this.deadLetterQueue = this.relay.deadLetterQueue;
    this.relay.addTable(this.table, props.existingTable ? 'existingTable' : 'the table');
    markRole(this.table, ResourceRole.boxTable);
    if (!props.existingEventBus) markRole(this.eventBus, ResourceRole.eventBus);
    if (this.archive) markRole(this.archive, ResourceRole.archive);
    (props.additionalTables ?? []).forEach((table, i) => {
      this.relay.addTable(table, `additionalTables[${i}]`);
    });

    const wantsAlarms = props.alarms ?? true;
    this.alarmTopic = wantsAlarms
      ? (props.existingAlarmTopic ?? alarmTopic(this, 'AlarmTopic', props.encryptionKey))
      : undefined;
    this.alarms = wantsAlarms
      ? this.#createAlarms(props.iteratorAgeThreshold ?? Duration.minutes(5))
      : [];
    this.dashboard = (props.dashboard ?? true) ? this.#createDashboard() : undefined;
  }

  /** Lets a producer write entities and outbox items: PutItem, UpdateItem, DeleteItem, ConditionCheckItem. */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    return grantItemActions(
      this.table,
      grantee,
      ITEM_READ_WRITE.filter((a) => a !== 'dynamodb:GetItem'),
    );
  }

  /**
   * Lets a producer read items and write entities and outbox items (GetItem, PutItem,
   * UpdateItem, DeleteItem, ConditionCheckItem): what a unit of work that reads its entities
   * first needs. Queries of your own need `table.grant(fn, 'dynamodb:Query')`.
   */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return grantItemActions(this.table, grantee, ITEM_READ_WRITE);
  }

  /**
   * Relays another table's outbox items to this box's bus with the same relay (a consumer
   * that publishes, a tenant's table). Its stream must have new images.
   */
  relayTable(table: dynamodb.ITable): void {
    this.relay.addTable(table, `relayed table`);
  }

  /** How far behind the stream the relay is (maximum). */
  metricIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relay.metricIteratorAge(props);
  }

  /** Relay invocations that failed as a whole. */
  metricRelayErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relay.metricErrors(props);
  }

  /** Records waiting in the dead-letter queue. */
  metricDeadLetterDepth(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relay.metricDeadLetterDepth(props);
  }

  /** Events the relay published (the relay's own EMF metric). */
  metricEventsPublished(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relay.metric(RelayMetrics.eventsPublished, props);
  }

  /** Entries EventBridge rejected, whatever the code. */
  metricPublishErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.relay.metric(RelayMetrics.publishErrors, props);
  }

  #createAlarms(iteratorAgeThreshold: Duration): cloudwatch.Alarm[] {
    const alarms = this.relay.createAlarms(iteratorAgeThreshold, 'The Eventbox relay');
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
