import { fileURLToPath } from 'node:url';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { EventBox } from '../../infra/constructs/event-box.js';
import { EventBoxConsumer } from '../../infra/constructs/event-box-consumer.js';
import { JobRunner } from '../../infra/constructs/job-runner.js';
import { type PolicyStatement, statementsOf, testStack } from '../helpers/cdk.js';

const entry = (path: string) =>
  fileURLToPath(new URL(`../../functions/example/${path}`, import.meta.url));
const keyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] };
const ACCOUNT = '111111111111';

type Statement = PolicyStatement & {
  Effect: string;
  Condition?: Record<string, Record<string, unknown>>;
};
type Resource = { Type: string; Properties: Record<string, unknown> };

const keyActions = (statements: PolicyStatement[]) =>
  statements
    .filter((s) => JSON.stringify(s.Resource).includes('"Key'))
    .flatMap((s) => [s.Action].flat())
    .sort();

function keyPolicyFor(template: Template, service: string): Statement[] {
  const [key] = Object.values(template.findResources('AWS::KMS::Key')) as Array<{
    Properties: { KeyPolicy: { Statement: Statement[] } };
  }>;
  return (key?.Properties.KeyPolicy.Statement ?? []).filter((s) =>
    JSON.stringify(s.Principal).includes(service),
  );
}

/** The user-score consumer, its queues encrypted with `key`. */
const scores = (stack: ReturnType<typeof testStack>, key: kms.IKey) =>
  new EventBoxConsumer(stack, 'Scores', {
    consumerName: 'user-score',
    eventBus: new events.EventBus(stack, 'Bus'),
    eventPattern: { source: ['orders'] },
    entry: entry('user-score/index.ts'),
    encryptionKey: key,
  });

/** The consumer, the job runner and the dispatcher, each with its queue fed by a rule. */
function everyQueue(encrypted: boolean) {
  const stack = testStack();
  const key = encrypted ? new kms.Key(stack, 'Key', { enableKeyRotation: true }) : undefined;
  const encryption = key ? { encryptionKey: key } : {};
  const eventBus = new events.EventBus(stack, 'Bus');
  new EventBoxConsumer(stack, 'Scores', {
    consumerName: 'user-score',
    eventBus,
    eventPattern: { source: ['orders'] },
    entry: entry('user-score/index.ts'),
    ...encryption,
  });
  new JobRunner(stack, 'Jobs', {
    eventBus,
    entry: entry('fulfilment/runner.ts'),
    stateMachines: [
      new sfn.StateMachine(stack, 'Machine', {
        definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Pass')),
      }),
    ],
    ...encryption,
  });
  return Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
}

/** For every rule and each queue it sends to (target and dead-letter queue), what lets it. */
function ruleQueueGrants(resources: Record<string, Resource>) {
  const policyOf = (queueId: string) =>
    Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::SQS::QueuePolicy' &&
        JSON.stringify(r.Properties.Queues) === JSON.stringify([{ Ref: queueId }]),
    );
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule')
    .flatMap(([ruleId, rule]) =>
      (rule.Properties.Targets as Array<Record<string, unknown>>).flatMap((target) =>
        [target.Arn, (target.DeadLetterConfig as { Arn?: unknown } | undefined)?.Arn].map((arn) => {
          const queueId = (arn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
          const statements = (
            (policyOf(queueId)?.Properties.PolicyDocument as { Statement: Statement[] })
              ?.Statement ?? []
          ).filter((s) => JSON.stringify(s.Principal).includes('events.amazonaws.com'));
          return { ruleId, ruleName: String(rule.Properties.Name), queueId, statements };
        }),
      ),
    );
}

/** Whether a queue-policy condition names this rule: its Arn attribute. */
const namesRule = (value: unknown, ruleId: string) =>
  JSON.stringify(value) === JSON.stringify({ 'Fn::GetAtt': [ruleId, 'Arn'] });

/** Whether a key-policy condition names this rule: the ARN built from its bus and name. */
const namesRuleByName = (value: unknown, busId: string, ruleName: string) => {
  const text = JSON.stringify(value);
  return (
    text.includes(':events:eu-west-1:111111111111:rule/') &&
    text.includes(`{"Ref":"${busId}"}`) &&
    text.includes(`"/${ruleName}"`)
  );
};

describe('Confused deputy: only the stack’s own rule may send to each queue', () => {
  for (const encrypted of [false, true]) {
    describe(encrypted ? 'with a customer-managed key' : 'without a key', () => {
      const resources = everyQueue(encrypted);
      const grants = ruleQueueGrants(resources);

      it('covers the consumer, job runner and dispatcher queues and their dead-letter queues', () => {
        expect(grants).toHaveLength(6);
      });

      it('lets EventBridge only SendMessage, under the rule’s ARN and this account', () => {
        for (const { ruleId, ruleName, queueId, statements } of grants) {
          expect(statements, `${ruleId} → ${queueId}`).toHaveLength(1);
          const [statement] = statements as [Statement];
          expect(statement.Action).toBe('sqs:SendMessage');
          expect(statement.Condition?.StringEquals?.['aws:SourceAccount']).toBe(ACCOUNT);
          expect(
            namesRule(statement.Condition?.ArnEquals?.['aws:SourceArn'], ruleId),
            `${queueId}'s policy names ${ruleId} (${ruleName})`,
          ).toBe(true);
        }
      });

      if (encrypted) {
        it('lets EventBridge use the key only for the stack’s rules (whose ARNs name this account)', () => {
          const template = Template.fromJSON({ Resources: resources });
          const statements = keyPolicyFor(template, 'events.amazonaws.com');
          const rules = [...new Map(grants.map((g) => [g.ruleId, g])).values()];

          expect(statements.length).toBeGreaterThan(0);
          for (const statement of statements) {
            expect(statement.Action).toStrictEqual(['kms:GenerateDataKey', 'kms:Decrypt']);
            expect(JSON.stringify(statement.Condition?.ArnEquals)).toContain(`:${ACCOUNT}:rule/`);
          }
          const busId = Object.keys(resources).find((id) => id.startsWith('Bus')) as string;
          for (const { ruleId, ruleName } of rules) {
            expect(ruleName).not.toBe('undefined');
            expect(
              statements.some((s) =>
                namesRuleByName(s.Condition?.ArnEquals?.['aws:SourceArn'], busId, ruleName),
              ),
              `the key policy names ${ruleId}`,
            ).toBe(true);
          }
        });
      }
    });
  }

  it('lets CloudWatch publish to the alarm topic, and use its key, for this account’s alarms only', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });

    new EventBox(stack, 'Box', { encryptionKey: key });

    const template = Template.fromStack(stack);
    const condition = {
      ArnLike: { 'aws:SourceArn': Match.objectLike({}) },
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
    };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: condition,
          }),
        ]),
      },
    });
    const [statement] = keyPolicyFor(template, 'cloudwatch.amazonaws.com');
    expect(statement?.Condition?.StringEquals).toStrictEqual({ 'aws:SourceAccount': ACCOUNT });
    expect(JSON.stringify(statement?.Condition?.ArnLike)).toContain(':alarm:*');
  });
});

describe('Prop: encryptionKey', () => {
  it('EventBox: encrypts the table, the relay dead-letter queue, its log group and the alarm topic with the key', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });

    new EventBox(stack, 'Box', { encryptionKey: key });

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: keyArn });
    const [logs] = keyPolicyFor(template, 'logs.');
    expect(JSON.stringify(logs?.Condition)).toContain('kms:EncryptionContext:aws:logs:arn');
    // Reading the stream needs Decrypt; dead-lettering GenerateDataKey and Decrypt.
    expect(keyActions(statementsOf(template, 'BoxRelayRole'))).toStrictEqual([
      'kms:Decrypt',
      'kms:Decrypt',
      'kms:GenerateDataKey',
    ]);
  });

  it('EventBoxConsumer: encrypts the table, both queues and the log group, and grants the function the KMS actions its calls need', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });

    scores(stack, key);

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { KmsMasterKeyId: keyArn }, 2);
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: keyArn });
    const fn = keyActions(statementsOf(template, 'ScoresRole'));
    expect(new Set(fn)).toStrictEqual(
      new Set(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKey*']),
    );
    expect(fn).not.toContain('kms:ReEncrypt*');
  });

  it('keeps SQS-managed encryption without a key', () => {
    const stack = testStack();

    new EventBox(stack, 'Box');

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  it('warns what an imported key policy must allow, since it cannot be changed here', () => {
    const stack = testStack();
    const key = kms.Key.fromKeyArn(
      stack,
      'Imported',
      'arn:aws:kms:eu-west-1:111111111111:key/11111111-2222-3333-4444-555555555555',
    );

    scores(stack, key);

    const warnings = Annotations.fromStack(stack);
    warnings.hasWarning(
      '/Test/Scores/Rule',
      Match.stringLikeRegexp('must allow events.amazonaws.com kms:GenerateDataKey and kms:Decrypt'),
    );
    warnings.hasWarning(
      '/Test/Scores',
      Match.stringLikeRegexp('must allow cloudwatch.amazonaws.com'),
    );
    warnings.hasWarning(
      '/Test/Scores',
      Match.stringLikeRegexp('must allow logs.eu-west-1.amazonaws.com'),
    );
  });
});
