import { fileURLToPath } from 'node:url';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { JobRunner, type JobRunnerProps } from '../../infra/constructs/job-runner.js';
import { statementsOf, testStack } from '../helpers/cdk.js';

const entry = fileURLToPath(
  new URL('../../functions/example/fulfilment/runner.ts', import.meta.url),
);

function runner(
  extra: (stack: ReturnType<typeof testStack>) => Partial<JobRunnerProps> = () => ({}),
) {
  const stack = testStack();
  const eventBus = new events.EventBus(stack, 'Bus');
  const construct = new JobRunner(stack, 'Jobs', { eventBus, entry, ...extra(stack) });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('Construct: JobRunner', () => {
  it('creates the jobs table with a stream, the byState index and the outbox index, and a runner fed job messages of this table only', () => {
    const { template } = runner();

    template.hasResourceProperties('AWS::DynamoDB::Table', {
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'byState',
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['jobId', 'name'] },
        }),
        Match.objectLike({ IndexName: 'outboxByTime' }),
      ]),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['eventbox.jobs'],
        'detail-type': ['eventbox.job.started', 'eventbox.job.task', 'eventbox.job.resumed'],
        detail: { payload: { jobsTable: [{ Ref: Match.stringLikeRegexp('^JobsTable') }] } },
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 100 }),
    });
  });

  it('grants a starter exactly PutItem and ConditionCheckItem on the jobs table, and names the table in its environment', () => {
    const stack = testStack();
    const jobs = new JobRunner(stack, 'Jobs', {
      eventBus: new events.EventBus(stack, 'Bus'),
      entry,
    });
    const starter = new lambda.Function(stack, 'Starter', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });

    jobs.grantStart(starter);

    const template = Template.fromStack(stack);
    expect(statementsOf(template, 'StarterServiceRole')).toStrictEqual([
      {
        Action: ['dynamodb:PutItem', 'dynamodb:ConditionCheckItem'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^JobsTable/), 'Arn'] },
      },
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: { EVENTBOX_JOBS_TABLE: { Ref: Match.stringLikeRegexp('^JobsTable') } },
      },
    });
  });

  it('dispatches executions of the given state machines and durable functions, granted only those', () => {
    const { template } = runner((stack) => ({
      stateMachines: [
        new sfn.StateMachine(stack, 'Fraud', {
          definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Check')),
        }),
      ],
      durableFunctions: [
        lambda.Function.fromFunctionArn(
          stack,
          'Refund',
          'arn:aws:lambda:eu-west-1:111111111111:function:refund',
        ),
      ],
    }));

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'detail-type': ['eventbox.execution.start'],
        detail: {
          payload: {
            target: [
              { Ref: Match.stringLikeRegexp('^Fraud') },
              'arn:aws:lambda:eu-west-1:111111111111:function:refund',
            ],
          },
        },
      },
    });
    const actions = statementsOf(template, 'JobsDispatcherRole')
      .flatMap((s) => [s.Action].flat())
      .filter((a) => !a.startsWith('sqs:') && !a.startsWith('dynamodb:'));
    expect(actions.sort()).toStrictEqual([
      'lambda:InvokeFunction',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'states:DescribeExecution',
      'states:StartExecution',
    ]);
  });

  it('refuses an Express state machine, whose executions a name does not deduplicate', () => {
    expect(() =>
      runner((stack) => ({
        stateMachines: [
          new sfn.StateMachine(stack, 'Fast', {
            stateMachineType: sfn.StateMachineType.EXPRESS,
            definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Go')),
          }),
        ],
      })),
    ).toThrow(
      'Test/Fast is an Express state machine: StartExecution does not deduplicate Express executions by name',
    );
  });
});
