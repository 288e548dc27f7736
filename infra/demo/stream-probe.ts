import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';

/**
 * The function under probe answers `batchItemFailures` for record "probe-1" the first time
 * it sees it. Where the stream mapping honours that, as AWS does, "probe-1" is delivered
 * again; where it drops it, it is not.
 */
const probeHandler = `
let failed = false;
exports.handler = async (event) => {
  const keys = event.Records.map((r) => r.dynamodb.Keys.pk.S);
  console.log('EVENTBOX_PROBE ' + JSON.stringify(keys));
  const first = event.Records.find((r) => r.dynamodb.Keys.pk.S === 'probe-1');
  if (first && !failed) {
    failed = true;
    return { batchItemFailures: [{ itemIdentifier: first.dynamodb.SequenceNumber }] };
  }
  return { batchItemFailures: [] };
};`;

/**
 * Whether the endpoint's DynamoDB-stream event source mapping retries the records named in
 * `batchItemFailures`. Deploys a tiny stack, feeds it two records, reads the function's log.
 */
export async function streamHonoursBatchItemFailures(config: {
  endpoint: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}): Promise<boolean> {
  const cfn = new CloudFormationClient(config);
  const stackName = `eventbox-probe-${randomUUID().slice(0, 8)}`;
  await cfn.send(
    new CreateStackCommand({
      StackName: stackName,
      TemplateBody: JSON.stringify({
        Resources: {
          Table: {
            Type: 'AWS::DynamoDB::Table',
            Properties: {
              BillingMode: 'PAY_PER_REQUEST',
              AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
              KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
              StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
            },
          },
          Function: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Runtime: 'nodejs20.x',
              Handler: 'index.handler',
              Role: 'arn:aws:iam::000000000000:role/eventbox-probe',
              Code: { ZipFile: probeHandler },
              Timeout: 10,
            },
          },
          Mapping: {
            Type: 'AWS::Lambda::EventSourceMapping',
            Properties: {
              FunctionName: { Ref: 'Function' },
              EventSourceArn: { 'Fn::GetAtt': ['Table', 'StreamArn'] },
              StartingPosition: 'TRIM_HORIZON',
              BatchSize: 10,
              FunctionResponseTypes: ['ReportBatchItemFailures'],
            },
          },
        },
        Outputs: { Table: { Value: { Ref: 'Table' } }, Function: { Value: { Ref: 'Function' } } },
      }),
    }),
  );
  try {
    const outputs = await waitForStack(cfn, stackName);
    const ddb = new DynamoDBClient(config);
    for (const pk of ['probe-1', 'probe-2']) {
      await ddb.send(new PutItemCommand({ TableName: outputs.Table, Item: { pk: { S: pk } } }));
    }
    const logs = new CloudWatchLogsClient(config);
    const batches = async () => {
      const page = await logs
        .send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${outputs.Function}` }))
        .catch(() => ({ events: [] }));
      return (page.events ?? []).flatMap((e) => {
        const at = e.message?.indexOf('EVENTBOX_PROBE ') ?? -1;
        return at < 0 || !e.message ? [] : [JSON.parse(e.message.slice(at + 15)) as string[]];
      });
    };
    const until = async (done: (seen: string[][]) => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const seen = await batches();
        if (done(seen) || Date.now() > deadline) return seen;
        await sleep(500);
      }
    };
    const first = await until(
      (seen) => seen.flat().includes('probe-1') && seen.flat().includes('probe-2'),
      20_000,
    );
    if (!first.flat().includes('probe-1'))
      throw new Error('stream probe inconclusive: the function never received its records');
    // A mapping that honours the answer redelivers within a poll cycle or two.
    const after = await until(
      (seen) => seen.filter((keys) => keys.includes('probe-1')).length >= 2,
      6_000,
    );
    return after.filter((keys) => keys.includes('probe-1')).length >= 2;
  } finally {
    await cfn.send(new DeleteStackCommand({ StackName: stackName })).catch(() => undefined);
  }
}

async function waitForStack(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<Record<string, string>> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks[0];
    if (stack?.StackStatus === 'CREATE_COMPLETE') {
      return Object.fromEntries(
        (stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
      );
    }
    if (stack?.StackStatus?.endsWith('FAILED') || stack?.StackStatus?.startsWith('ROLLBACK')) {
      throw new Error(
        `probe stack ${stackName}: ${stack.StackStatus} ${stack.StackStatusReason ?? ''}`,
      );
    }
    await sleep(300);
  }
  throw new Error(`probe stack ${stackName} did not complete`);
}
