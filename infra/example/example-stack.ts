import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { NodejsFunction, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import {
  EventBox,
  EventBoxConsumer,
  type EventBoxConsumerProps,
  EventBoxQueueTarget,
  eventboxFunctionDefaults,
  functionLogGroup,
  JobRunner,
  type JobRunnerProps,
  ownLogsRole,
  queueEncryption,
  type RelayProps,
} from '../constructs/index.js';

export interface ExampleStackProps extends StackProps {
  /** Extra environment for every function of the example. */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /**
   * Settings laid over the example's own for its relay, its user-score consumer and its
   * fulfilment runner: other entries or timeouts, as a test of the app might deploy.
   */
  readonly overrides?: ExampleOverrides;
  /** Deliveries before user-score dead-letters a "not yet" event (an operations test wants few). */
  readonly notYetMaxAttempts?: number;
  /** Encrypt every table, queue, topic and log group with a customer-managed key of the stack's own. @default false */
  readonly encrypted?: boolean;
}

export interface ExampleOverrides {
  readonly relay?: RelayProps;
  readonly userScore?: Partial<EventBoxConsumerProps>;
  readonly fulfilment?: Partial<JobRunnerProps>;
}

const source = (path: string) => fileURLToPath(new URL(`../../functions/${path}`, import.meta.url));

/** The events the user-score service consumes. */
export const USER_SCORE_EVENTS = [
  'UserCreated',
  'UserUpdated',
  'UserRegionChanged',
  'OrderPaid',
  'OrderCanceled',
];

/**
 * The example app, a chain of three services: an orders service (producer) publishing
 * through an EventBox; the user-score service of the disordering article, which consumes
 * the orders events and publishes score changes; and a rewards service consuming those.
 */
export class ExampleStack extends Stack {
  readonly box: EventBox;
  readonly orders: NodejsFunction;
  readonly userScore: EventBoxConsumer;
  readonly rewards: EventBoxConsumer;
  readonly fulfilment: JobRunner;
  readonly fraudCheck: sfn.StateMachine;
  readonly fraudFunction: NodejsFunction;
  readonly refund: NodejsFunction;
  readonly audit: sqs.Queue;
  readonly key: kms.Key | undefined;

  constructor(scope: Construct, id: string, props: ExampleStackProps = {}) {
    super(scope, id, props);
    const extra = props.functionEnvironment ?? {};
    this.key = props.encrypted
      ? new kms.Key(this, 'Key', {
          enableKeyRotation: true,
          description: 'Encrypts the example app at rest',
          removalPolicy: RemovalPolicy.DESTROY,
        })
      : undefined;
    const encryption = this.key ? { encryptionKey: this.key } : {};
    const logGroup = (id: string) =>
      functionLogGroup(this, id, this.key, {
        retention: logs.RetentionDays.ONE_WEEK,
        removalPolicy: RemovalPolicy.DESTROY,
      });

    this.box = new EventBox(this, 'Orders', {
      ...encryption,
      tableProps: { removalPolicy: RemovalPolicy.DESTROY },
      ...(props.overrides?.relay ? { relay: props.overrides.relay } : {}),
    });
    this.box.relayFunction.addEnvironment('EVENTBOX_EXAMPLE', '1');
    for (const [name, value] of Object.entries(extra))
      this.box.relayFunction.addEnvironment(name, value);

    const ordersLogs = logGroup('OrdersLogs');
    this.orders = new NodejsFunction(this, 'OrdersFunction', {
      ...eventboxFunctionDefaults,
      entry: source('example/orders/index.ts'),
      timeout: Duration.seconds(30),
      memorySize: 512,
      description: 'Example orders service: users and orders, each change with its event',
      logGroup: ordersLogs,
      role: ownLogsRole(this, 'OrdersRole', ordersLogs),
      environment: {
        ...eventboxFunctionDefaults.environment,
        ...extra,
        TABLE_NAME: this.box.table.tableName,
        EVENT_SOURCE: 'orders',
      },
    });
    this.box.grantReadWrite(this.orders);

    this.userScore = new EventBoxConsumer(this, 'UserScore', {
      ...encryption,
      consumerName: 'user-score',
      eventBus: this.box.eventBus,
      eventPattern: { source: ['orders'], detailType: USER_SCORE_EVENTS },
      entry: source('example/user-score/index.ts'),
      ...(props.notYetMaxAttempts ? { notYetMaxAttempts: props.notYetMaxAttempts } : {}),
      tableProps: { removalPolicy: RemovalPolicy.DESTROY },
      environment: extra,
      // Score changes it publishes go out through the box's relay, to the box's bus.
      publishTo: this.box,
      ...(this.box.alarmTopic ? { existingAlarmTopic: this.box.alarmTopic } : {}),
      ...(this.box.dashboard ? { dashboard: this.box.dashboard } : {}),
      ...props.overrides?.userScore,
    });

    this.rewards = new EventBoxConsumer(this, 'Rewards', {
      ...encryption,
      consumerName: 'rewards',
      eventBus: this.box.eventBus,
      eventPattern: { source: ['user-score'], detailType: ['ScoreChanged'] },
      entry: source('example/rewards/index.ts'),
      tableProps: { removalPolicy: RemovalPolicy.DESTROY },
      environment: extra,
      ...(this.box.alarmTopic ? { existingAlarmTopic: this.box.alarmTopic } : {}),
      ...(this.box.dashboard ? { dashboard: this.box.dashboard } : {}),
    });

    // Placing an order starts its fraud check (a state machine); cancelling a paid one, its
    // refund (a durable function): each exactly once, with the transaction.
    const task = (id: string, entry: string, extraProps: Partial<NodejsFunctionProps> = {}) => {
      const logs = logGroup(`${id}Logs`);
      return new NodejsFunction(this, id, {
        ...eventboxFunctionDefaults,
        entry: source(entry),
        timeout: Duration.seconds(30),
        logGroup: logs,
        role: ownLogsRole(this, `${id}Role`, logs),
        ...extraProps,
      });
    };
    this.fraudFunction = task('FraudFunction', 'example/fraud/index.ts');
    this.fraudCheck = new sfn.StateMachine(this, 'FraudCheck', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.LambdaInvoke(this, 'AssessRisk', {
          lambdaFunction: this.fraudFunction,
          payloadResponseOnly: true,
        }),
      ),
      logs: {
        destination: logGroup('FraudCheckLogs'),
        level: sfn.LogLevel.ALL,
      },
      tracingEnabled: true,
    });
    this.refund = task('RefundFunction', 'example/refund/index.ts', {
      durableConfig: { executionTimeout: Duration.hours(1), retentionPeriod: Duration.days(7) },
    });
    // What AWSLambdaBasicDurableExecutionRolePolicy grants on "*", on this function's
    // executions only; a policy of its own, so the function does not depend on it.
    new iam.Policy(this, 'RefundCheckpoints', {
      roles: this.refund.role ? [this.refund.role] : [],
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:CheckpointDurableExecution', 'lambda:GetDurableExecutionState'],
          resources: [`${this.refund.functionArn}:*`],
        }),
      ],
    });
    const refundTarget = this.refund.latestVersion;

    // Paying an order starts its fulfilment job in the same transaction.
    this.fulfilment = new JobRunner(this, 'Fulfilment', {
      ...encryption,
      stateMachines: [this.fraudCheck],
      durableFunctions: [refundTarget],
      runnerName: 'fulfilment',
      eventBus: this.box.eventBus,
      publishTo: this.box,
      entry: source('example/fulfilment/runner.ts'),
      stepTable: this.box.table,
      tableProps: { removalPolicy: RemovalPolicy.DESTROY },
      environment: extra,
      ...(this.box.alarmTopic ? { existingAlarmTopic: this.box.alarmTopic } : {}),
      ...(this.box.dashboard ? { dashboard: this.box.dashboard } : {}),
      ...props.overrides?.fulfilment,
    });
    this.fulfilment.grantStart(this.orders);
    this.orders.addEnvironment('FRAUD_STATE_MACHINE_ARN', this.fraudCheck.stateMachineArn);
    this.orders.addEnvironment('REFUND_FUNCTION_ARN', refundTarget.functionArn);

    // A tap on the bus: every event the relay publishes, so the demo can count them.
    this.audit = new sqs.Queue(this, 'AuditQueue', {
      retentionPeriod: Duration.days(1),
      ...queueEncryption(this.key),
      enforceSSL: true,
    });
    new events.Rule(this, 'AuditRule', {
      eventBus: this.box.eventBus,
      eventPattern: { source: ['orders', 'user-score'] },
      // Named: under a key, the key policy names the rule that may use it.
      ruleName: `${this.stackName}-audit`,
      description: 'Copies every event of the chain to the audit queue',
      targets: [new EventBoxQueueTarget(this.audit)],
    });

    const outputs: Record<string, string> = {
      OrdersFunctionName: this.orders.functionName,
      OrdersTableName: this.box.table.tableName,
      EventBusName: this.box.eventBus.eventBusName,
      RelayFunctionName: this.box.relayFunction.functionName,
      RelayDeadLetterQueueUrl: this.box.deadLetterQueue.queueUrl,
      UserScoreTableName: this.userScore.table.tableName,
      UserScoreFunctionName: this.userScore.function.functionName,
      UserScoreQueueUrl: this.userScore.queue.queueUrl,
      UserScoreDeadLetterQueueUrl: this.userScore.deadLetterQueue.queueUrl,
      RewardsTableName: this.rewards.table.tableName,
      RewardsFunctionName: this.rewards.function.functionName,
      RewardsQueueUrl: this.rewards.queue.queueUrl,
      RewardsDeadLetterQueueUrl: this.rewards.deadLetterQueue.queueUrl,
      JobsTableName: this.fulfilment.table.tableName,
      JobRunnerFunctionName: this.fulfilment.function.functionName,
      JobRunnerQueueUrl: this.fulfilment.consumer.queue.queueUrl,
      JobRunnerDeadLetterQueueUrl: this.fulfilment.consumer.deadLetterQueue.queueUrl,
      DispatcherFunctionName: this.fulfilment.dispatcher?.function.functionName ?? '',
      DispatcherQueueUrl: this.fulfilment.dispatcher?.queue.queueUrl ?? '',
      DispatcherDeadLetterQueueUrl: this.fulfilment.dispatcher?.deadLetterQueue.queueUrl ?? '',
      FraudCheckStateMachineArn: this.fraudCheck.stateMachineArn,
      RefundFunctionName: this.refund.functionName,
      AuditQueueUrl: this.audit.queueUrl,
    };
    for (const [name, value] of Object.entries(outputs)) new CfnOutput(this, name, { value });
  }
}
