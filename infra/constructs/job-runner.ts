import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { JobRunnerCalls } from '../../lib/jobs/calls.js';
import { JobRunnerEnvironment, JobRunnerMetrics } from '../../lib/jobs/environment.js';
import { EXECUTION_START } from '../../lib/jobs/executions.js';
import { JobEvent, RUNNER_EVENT_TYPES } from '../../lib/jobs/messages.js';
import { JobKeys } from '../../lib/jobs/records.js';
import { tableEncryption } from './encryption.js';
import type { EventBox } from './event-box.js';
import { EventBoxConsumer } from './event-box-consumer.js';
import { eventboxEntry } from './function-entry.js';
import { grantItemActions } from './grants.js';
import type { RelayProps } from './relay.js';
import { addOutboxIndex, eventboxTable } from './resources.js';
import { markRole, ResourceRole } from './roles.js';
import { checkOwnEnvironment, checkRange, InvalidPropsError } from './validation.js';

export interface JobRunnerProps {
  /** The bus job messages travel on (and job notices go to). */
  readonly eventBus: events.IEventBus;
  /**
   * What relays the jobs table's outbox (job messages and the events steps publish): an
   * `EventBox` (its relay reads the jobs table too) or a bus (a relay of the runner's own).
   * @default a relay of its own to `eventBus`
   */
  readonly publishTo?: EventBox | events.IEventBus;
  /** Settings of the runner's own relay. */
  readonly relay?: RelayProps;
  /** The runner's source file: a module exporting a `createJobRunner` handler. */
  readonly entry: string;
  /** esbuild options for the runner's bundle, as `EventBoxConsumer`'s `bundling`. @default Eventbox's */
  readonly bundling?: BundlingOptions;
  /** @default 'handler' */
  readonly handler?: string;
  /** Names the runner in metrics, logs and resources. @default 'jobs' */
  readonly runnerName?: string;
  /** The table steps write to through `ctx.tx` by default; granted to the runner. @default the jobs table */
  readonly stepTable?: dynamodb.ITable;
  /** Further tables the steps write to; granted to the runner. */
  readonly stepTables?: readonly dynamodb.ITable[];
  /** Overrides for the jobs table (string keys `pk`/`sk`, stream, TTL, the `byState` index). */
  readonly tableProps?: Partial<dynamodb.TableProps>;
  /** A step's run, and the visibility of its message (six times this). @default 60 seconds */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Deliveries of one message before the queue dead-letters it: above the steps' attempts (the runner counts those itself). @default 100 */
  readonly maxReceiveCount?: number;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default no limit */
  readonly maxConcurrency?: number;
  /** More environment variables for the runner; names Eventbox sets itself are refused. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Alarms on stalled jobs, retries, dead letters and errors. @default true */
  readonly alarms?: boolean;
  readonly existingAlarmTopic?: sns.ITopic;
  /** Alarm when step and task retries exceed this in 5 minutes. @default 100 */
  readonly retriesAlarmThreshold?: number;
  readonly dashboard?: cloudwatch.Dashboard;
  /**
   * Standard state machines transactions may start with `startExecution`: a dispatcher
   * (an inbox consumer) starts each once, by name. Express state machines are refused: a
   * named StartExecution does not deduplicate them.
   */
  readonly stateMachines?: readonly sfn.IStateMachine[];
  /** Lambda durable functions transactions may start with `startExecution`, likewise. */
  readonly durableFunctions?: readonly lambda.IFunction[];
  /** Your own dispatcher module (a `createExecutionDispatcher` handler). @default Eventbox's */
  readonly dispatcherEntry?: string;
  /** The dispatcher's function timeout; its queue's visibility follows it. @default the consumer's */
  readonly dispatcherTimeout?: Duration;
  /**
   * A customer-managed KMS key for the jobs table and the runner's and dispatcher's queues,
   * topics, log groups and relay, as for `EventBoxConsumer`. @default as `EventBoxConsumer`'s
   */
  readonly encryptionKey?: kms.IKey;
}

/**
 * The job runner: a jobs table (job and task records, and the outbox of job messages, with
 * a `byState` index for listings), its relay, and an inbox consumer of the job messages
 * that runs `createJobRunner`; alarms on stalled jobs and retries.
 */
export class JobRunner extends Construct {
  readonly table: dynamodb.Table;
  readonly consumer: EventBoxConsumer;
  readonly function: lambda.IFunction;
  readonly runnerName: string;
  readonly alarms: readonly cloudwatch.Alarm[];
  /** Starts the state machines' and durable functions' executions, when there are any. */
  readonly dispatcher: EventBoxConsumer | undefined;
  readonly #targets: readonly string[];

  constructor(scope: Construct, id: string, props: JobRunnerProps) {
    super(scope, id);
    checkRange('maxReceiveCount', props.maxReceiveCount, 11, 1000);
    checkOwnEnvironment(`job runner ${props.runnerName ?? 'jobs'}`, props.environment);
    this.runnerName = props.runnerName ?? 'jobs';
    this.table = eventboxTable(this, 'Table', {
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      ...tableEncryption(props.encryptionKey),
      ...props.tableProps,
    });
    // Keys only and the name: checkpoints that do not change the state do not write to it.
    this.table.addGlobalSecondaryIndex({
      indexName: JobKeys.byStateIndex,
      partitionKey: { name: JobKeys.stateAttribute, type: dynamodb.AttributeType.STRING },
      sortKey: { name: JobKeys.createdAttribute, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: ['jobId', 'name'],
    });
    addOutboxIndex(this.table);
    markRole(this.table, ResourceRole.jobsTable, { runner: this.runnerName });
    const timeout = props.timeout ?? Duration.seconds(60);
    this.consumer = new RunnerConsumer(this, 'Runner', {
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      consumerName: this.runnerName,
      eventBus: props.eventBus,
      eventPattern: {
        source: [JobEvent.source],
        detailType: [...RUNNER_EVENT_TYPES],
        detail: { payload: { jobsTable: [this.table.tableName] } },
      },
      entry: props.entry,
      ...(props.handler ? { handler: props.handler } : {}),
      ...(props.bundling ? { bundling: props.bundling } : {}),
      existingTable: this.table,
      publishTo: props.publishTo ?? props.eventBus,
      ...(props.relay ? { relay: props.relay } : {}),
      timeout,
      maxReceiveCount: props.maxReceiveCount ?? 100,
      ...(props.memorySize ? { memorySize: props.memorySize } : {}),
      ...(props.batchSize ? { batchSize: props.batchSize } : {}),
      ...(props.maxConcurrency ? { maxConcurrency: props.maxConcurrency } : {}),
      ...(props.environment ? { environment: props.environment } : {}),
      alarms: props.alarms ?? true,
      ...(props.existingAlarmTopic ? { existingAlarmTopic: props.existingAlarmTopic } : {}),
    });
    this.function = this.consumer.function;
    // An attempt lives no longer than its invocation, even where a handler wrapper does
    // not pass the context the runner reads its deadline from.
    this.consumer.function.addEnvironment(
      JobRunnerEnvironment.attemptLeaseSeconds,
      String(timeout.toSeconds()),
    );
    if (props.stepTable)
      this.consumer.function.addEnvironment(
        JobRunnerEnvironment.stepTableName,
        props.stepTable.tableName,
      );
    for (const table of [props.stepTable, ...(props.stepTables ?? [])])
      if (table) grantItemActions(table, this.function, JobRunnerCalls.stepTable);

    this.#targets = [
      ...(props.stateMachines ?? []).map((m) => m.stateMachineArn),
      ...(props.durableFunctions ?? []).map((f) => f.functionArn),
    ];
    this.dispatcher = this.#dispatcher(props);

    this.alarms =
      (props.alarms ?? true)
        ? this.#createAlarms(props.retriesAlarmThreshold ?? 100, this.consumer.alarmTopic)
        : [];
    props.dashboard?.addWidgets(
      new cloudwatch.GraphWidget({
        title: `${this.runnerName}: jobs`,
        left: [
          this.metric(JobRunnerMetrics.jobsSucceeded),
          this.metric(JobRunnerMetrics.jobsFailed),
          this.metricStalledJobs(),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: `${this.runnerName}: steps, tasks and retries`,
        left: [
          this.metric(JobRunnerMetrics.stepsCompleted),
          this.metric(JobRunnerMetrics.tasksCompleted),
        ],
        right: [
          this.metric(JobRunnerMetrics.stepRetries),
          this.metric(JobRunnerMetrics.taskRetries),
        ],
      }),
    );
  }

  #dispatcher(props: JobRunnerProps): EventBoxConsumer | undefined {
    const machines = props.stateMachines ?? [];
    const functions = props.durableFunctions ?? [];
    if (machines.length === 0 && functions.length === 0) return undefined;
    for (const machine of machines) {
      const resource = machine.node.defaultChild;
      if (resource instanceof sfn.CfnStateMachine && resource.stateMachineType === 'EXPRESS') {
        throw new InvalidPropsError(
          `${machine.node.path} is an Express state machine: StartExecution does not deduplicate Express executions by name, so a redelivered start would run twice; use a Standard state machine`,
        );
      }
    }
    const dispatcher = new EventBoxConsumer(this, 'Dispatcher', {
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      consumerName: `${this.runnerName}-dispatcher`,
      eventBus: props.eventBus,
      eventPattern: {
        detailType: [EXECUTION_START],
        detail: {
          payload: { target: [...this.#targets] },
        },
      },
      entry: props.dispatcherEntry ?? eventboxEntry('dispatcher/index'),
      ...(props.dispatcherTimeout ? { timeout: props.dispatcherTimeout } : {}),
      // Its records of the executions it started live beside the jobs: status reads them.
      existingTable: this.table,
      alarms: props.alarms ?? true,
      ...(props.existingAlarmTopic ? { existingAlarmTopic: props.existingAlarmTopic } : {}),
    });
    for (const machine of machines) {
      machine.grantStartExecution(dispatcher.function);
      machine.grantExecution(dispatcher.function, 'states:DescribeExecution');
    }
    for (const fn of functions) fn.grantInvoke(dispatcher.function);
    return dispatcher;
  }

  /**
   * Lets a function start jobs: write the job record and its first message to the jobs
   * table, and (for a Lambda function) sets `EVENTBOX_JOBS_TABLE`, which `startJob` reads.
   */
  grantStart(grantee: iam.IGrantable): iam.Grant {
    if (grantee instanceof lambda.Function) {
      grantee.addEnvironment(JobRunnerEnvironment.jobsTable, this.table.tableName);
      // The targets the dispatcher's rule matches: startExecution refuses others before commit.
      if (this.#targets.length > 0)
        grantee.addEnvironment(
          JobRunnerEnvironment.executionTargets,
          Stack.of(this).toJsonString([...this.#targets]),
        );
    }
    return grantItemActions(this.table, grantee, [
      'dynamodb:PutItem',
      'dynamodb:ConditionCheckItem',
    ]);
  }

  /** Lets a principal read job status and list jobs (`JobClient`, `npx eventbox jobs`). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadData(grantee);
  }

  /** One of the runner's metrics: JobsSucceeded, JobsFailed, StalledJobs, StepsCompleted, TasksCompleted, StepRetries, TaskRetries. */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.consumer.metric(metricName, props);
  }

  /** Jobs that stalled: each waits for an operator to resume it. */
  metricStalledJobs(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(JobRunnerMetrics.stalledJobs, props);
  }

  #createAlarms(retriesThreshold: number, topic: sns.ITopic | undefined): cloudwatch.Alarm[] {
    const alarms = [
      this.metricStalledJobs().createAlarm(this, 'StalledJobsAlarm', {
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: `Jobs of ${this.runnerName} stalled and wait to be resumed`,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      ...(['StepRetries', 'TaskRetries'] as const).map((name) =>
        this.metric(name).createAlarm(this, `${name}Alarm`, {
          threshold: retriesThreshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          alarmDescription: `Jobs of ${this.runnerName} keep retrying (${name})`,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      ),
    ];
    if (topic) for (const alarm of alarms) alarm.addAlarmAction(new SnsAction(topic));
    return alarms;
  }
}

/**
 * The runner's inbox consumer: granted what the runner calls (lib/jobs/calls.ts), which
 * reads its inbox record per message and never a batch of them.
 */
class RunnerConsumer extends EventBoxConsumer {
  protected override runtimeCalls() {
    return JobRunnerCalls;
  }
}
