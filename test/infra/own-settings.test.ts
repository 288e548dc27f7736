import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { EventBoxConsumer } from '../../infra/constructs/event-box-consumer.js';
import { JobRunner } from '../../infra/constructs/job-runner.js';
import { EventBoxQueueTarget } from '../../infra/constructs/queue-target.js';
import { InvalidPropsError } from '../../infra/constructs/validation.js';
import { ConsumerEnvironment } from '../../lib/consumer/environment.js';
import { JobRunnerEnvironment } from '../../lib/jobs/environment.js';
import { statementsOf, testStack } from '../helpers/cdk.js';

const entry = (path: string) =>
  fileURLToPath(new URL(`../../functions/example/${path}`, import.meta.url));

const scores = (environment: Record<string, string>) => () => {
  const stack = testStack();
  new EventBoxConsumer(stack, 'Scores', {
    consumerName: 'user-score',
    eventBus: new events.EventBus(stack, 'Bus'),
    eventPattern: { source: ['orders'] },
    entry: entry('user-score/index.ts'),
    environment,
  });
};

describe('Prop: environment', () => {
  it('is passed through when it names none of Eventbox’s variables, even the old unprefixed ones', () => {
    const stack = testStack();
    new EventBoxConsumer(stack, 'Scores', {
      consumerName: 'user-score',
      eventBus: new events.EventBus(stack, 'Bus'),
      eventPattern: { source: ['orders'] },
      entry: entry('user-score/index.ts'),
      environment: { TABLE_NAME: 'mine', QUEUE_URL: 'mine too' },
    });

    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          TABLE_NAME: 'mine',
          QUEUE_URL: 'mine too',
          [ConsumerEnvironment.tableName]: { Ref: Match.stringLikeRegexp('^ScoresTable') },
        }),
      },
    });
  });

  it.each(Object.values(ConsumerEnvironment))(
    'refuses a consumer environment naming %s, which Eventbox sets itself',
    (name) => {
      expect(scores({ [name]: 'x' })).toThrow(InvalidPropsError);
      expect(scores({ [name]: 'x' })).toThrow(new RegExp(`names ${name}, which Eventbox sets`));
    },
  );

  it('refuses a job runner environment naming the step table variable', () => {
    const build = () => {
      const stack = testStack();
      new JobRunner(stack, 'Jobs', {
        eventBus: new events.EventBus(stack, 'Bus'),
        entry: entry('fulfilment/runner.ts'),
        environment: { [JobRunnerEnvironment.stepTableName]: 'other' },
      });
    };

    expect(build).toThrow(InvalidPropsError);
    expect(build).toThrow(/EVENTBOX_STEP_TABLE_NAME/);
  });
});

describe('Construct: JobRunner grants', () => {
  it('gives the runner no BatchGetItem, which only the inbox consumer’s batch read calls', () => {
    const stack = testStack();
    new JobRunner(stack, 'Jobs', {
      eventBus: new events.EventBus(stack, 'Bus'),
      entry: entry('fulfilment/runner.ts'),
    });

    const actions = statementsOf(Template.fromStack(stack), 'JobsRunnerRole').flatMap((s) =>
      [s.Action].flat(),
    );

    expect(actions).toContain('dynamodb:Query');
    expect(actions).not.toContain('dynamodb:BatchGetItem');
  });
});

describe('Construct: JobRunner lease', () => {
  it('tells the runner its timeout, the lease of an attempt where a handler passes no context', () => {
    const stack = testStack();
    new JobRunner(stack, 'Jobs', {
      eventBus: new events.EventBus(stack, 'Bus'),
      entry: entry('fulfilment/runner.ts'),
      timeout: Duration.seconds(20),
    });

    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 20,
      Environment: {
        Variables: Match.objectLike({ [JobRunnerEnvironment.attemptLeaseSeconds]: '20' }),
      },
    });
  });
});

describe('Method: JobRunner.grantStart', () => {
  it('tells a starter the targets the dispatcher starts, so that startExecution refuses any other', () => {
    const stack = testStack();
    const machine = new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')),
    });
    const jobs = new JobRunner(stack, 'Jobs', {
      eventBus: new events.EventBus(stack, 'Bus'),
      entry: entry('fulfilment/runner.ts'),
      stateMachines: [machine],
    });
    const starter = new lambda.Function(stack, 'Starter', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });

    jobs.grantStart(starter);

    const resources = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    const fn = Object.entries(resources).find(([id]) => id.startsWith('Starter'))?.[1] as {
      Properties: { Environment: { Variables: Record<string, unknown> } };
    };
    const targets = JSON.stringify(
      fn?.Properties.Environment.Variables[JobRunnerEnvironment.executionTargets],
    );
    expect(targets).toContain('Machine');
  });
});

/** A rule without a name sending to `queue`, built when called. */
const ruleTo = (queue: sqs.Queue) => () =>
  new events.Rule(queue.stack, 'Rule', {
    eventPattern: { source: ['orders'] },
    targets: [new EventBoxQueueTarget(queue)],
  });

describe('Class: EventBoxQueueTarget', () => {
  it('refuses an encrypted queue behind a rule without a name, whose ARN the key policy could not name', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key');
    const queue = new sqs.Queue(stack, 'Queue', { encryptionMasterKey: key });

    expect(ruleTo(queue)).toThrow(/has no ruleName/);
  });

  it('refuses a FIFO queue without a message group', () => {
    const stack = testStack();
    const queue = new sqs.Queue(stack, 'Queue', { fifo: true });

    expect(ruleTo(queue)).toThrow(/needs a messageGroupId/);
  });

  it('refuses retries over what EventBridge allows', () => {
    const stack = testStack();
    const queue = new sqs.Queue(stack, 'Queue');

    expect(() => new EventBoxQueueTarget(queue, { retryAttempts: 186 })).toThrow(
      'retryAttempts must be an integer from 0 to 185; got 186',
    );
  });
});
