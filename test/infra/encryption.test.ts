import { fileURLToPath } from 'node:url';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { EventBox } from '../../infra/constructs/event-box.js';
import { EventBoxConsumer } from '../../infra/constructs/event-box-consumer.js';
import { type PolicyStatement, statementsOf, testStack } from '../helpers/cdk.js';

const entry = fileURLToPath(
  new URL('../../functions/example/user-score/index.ts', import.meta.url),
);
const keyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] };

const keyActions = (statements: PolicyStatement[]) =>
  statements
    .filter((s) => JSON.stringify(s.Resource).includes('"Key'))
    .flatMap((s) => [s.Action].flat())
    .sort();

function keyPolicyFor(template: Template, service: string) {
  const [key] = Object.values(template.findResources('AWS::KMS::Key')) as Array<{
    Properties: { KeyPolicy: { Statement: PolicyStatement[] } };
  }>;
  return key?.Properties.KeyPolicy.Statement.filter(
    (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: service }),
  );
}

/** The user-score consumer in `stack`, encrypted with `key`. */
function scores(stack: ReturnType<typeof testStack>, key: kms.IKey) {
  return new EventBoxConsumer(stack, 'Scores', {
    consumerName: 'user-score',
    eventBus: new events.EventBus(stack, 'Bus'),
    eventPattern: { source: ['orders'] },
    entry,
    encryptionKey: key,
  });
}

describe('Prop: encryptionKey', () => {
  it('EventBox: encrypts the table, the relay dead-letter queue and the alarm topic with the key, which alarms may use', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });

    new EventBox(stack, 'Box', { encryptionKey: key });

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn });
    expect(keyPolicyFor(template, 'cloudwatch.amazonaws.com')).toStrictEqual([
      expect.objectContaining({
        Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
      }),
    ]);
    // Reading the stream needs Decrypt; dead-lettering needs GenerateDataKey.
    const relay = keyActions(statementsOf(template, 'BoxRelayRole'));
    expect(relay).toContain('kms:Decrypt');
    expect(relay).toContain('kms:GenerateDataKey*');
  });

  it('EventBoxConsumer: encrypts the table and both queues with the key, which EventBridge may use to deliver, and grants the function its use', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });

    scores(stack, key);

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
    });
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { KmsMasterKeyId: keyArn }, 2);
    expect(keyPolicyFor(template, 'events.amazonaws.com')).toStrictEqual([
      expect.objectContaining({
        Action: expect.arrayContaining(['kms:GenerateDataKey*', 'kms:Decrypt']),
      }),
    ]);
    const fn = keyActions(statementsOf(template, 'ScoresRole'));
    expect(fn).toEqual(
      expect.arrayContaining(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*']),
    );
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

    Annotations.fromStack(stack).hasWarning(
      '/Test/Scores',
      Match.stringLikeRegexp('must allow events.amazonaws.com kms:GenerateDataKey and kms:Decrypt'),
    );
    Annotations.fromStack(stack).hasWarning(
      '/Test/Scores',
      Match.stringLikeRegexp('must allow cloudwatch.amazonaws.com'),
    );
  });
});
