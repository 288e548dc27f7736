import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ConsumerCalls } from '../../../lib/consumer/calls.js';
import { DispatcherCalls, JobRunnerCalls } from '../../../lib/jobs/calls.js';
import { RelayCalls } from '../../../lib/relay/calls.js';
import { ItemActions } from '../../../lib/shared/aws-calls.js';

/** The IAM actions each AWS SDK command the runtimes send is authorized as. */
const ACTIONS_OF: Record<string, readonly string[]> = {
  GetCommand: ['dynamodb:GetItem'],
  PutCommand: ['dynamodb:PutItem'],
  UpdateCommand: ['dynamodb:UpdateItem'],
  DeleteCommand: ['dynamodb:DeleteItem'],
  QueryCommand: ['dynamodb:Query'],
  BatchGetCommand: ['dynamodb:BatchGetItem'],
  TransactWriteCommand: ItemActions.write,
  SendMessageCommand: ['sqs:SendMessage'],
  SendMessageBatchCommand: ['sqs:SendMessage'],
  ChangeMessageVisibilityCommand: ['sqs:ChangeMessageVisibility'],
  GetQueueUrlCommand: ['sqs:GetQueueUrl'],
  PutEventsCommand: ['events:PutEvents'],
  StartExecutionCommand: ['states:StartExecution'],
  DescribeExecutionCommand: ['states:DescribeExecution'],
  InvokeCommand: ['lambda:InvokeFunction'],
};

/** Calls the code can make that the constructs rightly leave ungranted, and why. */
const NOT_MADE_BEHIND_THE_CONSTRUCTS: Record<string, string> = {
  'sqs:GetQueueUrl': 'made only without queueUrl, which the construct sets',
};

/** Actions the event source mappings and Lambda itself take with the function's role. */
const TAKEN_FOR_THE_CODE = new Set([
  'dynamodb:DescribeStream',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:ListStreams',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
]);

const entry = (path: string) =>
  fileURLToPath(new URL(`../../../functions/${path}`, import.meta.url));

/** Every AWS SDK command the entry's own code (its dependencies left out) can send. */
async function commandsOf(path: string): Promise<Set<string>> {
  const result = await build({
    entryPoints: [entry(path)],
    bundle: true,
    write: false,
    treeShaking: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'silent',
  });
  // The bundle after tree shaking: what the function can run, not every module it names.
  const code = result.outputFiles.map((f) => f.text).join('\n');
  // esbuild renames an import that two modules name alike: GetCommand2, GetCommand3, ...
  return new Set([...code.matchAll(/new (\w+?Command)\d*\(/g)].map(([, name]) => name as string));
}

async function actionsOf(path: string): Promise<Set<string>> {
  const actions = new Set<string>();
  for (const command of await commandsOf(path)) {
    const mapped = ACTIONS_OF[command];
    if (!mapped) throw new Error(`${path} sends ${command}, which this test does not map to IAM`);
    for (const a of mapped) actions.add(a);
  }
  return actions;
}

const RUNTIMES = [
  ['relay', 'eventbox/relay/index.ts', RelayCalls],
  ['consumer', 'example/user-score/index.ts', ConsumerCalls],
  ['job runner', 'example/fulfilment/runner.ts', JobRunnerCalls],
  ['dispatcher', 'eventbox/dispatcher/index.ts', DispatcherCalls],
] as const;

describe('The calls tables beside the runtimes', () => {
  for (const [name, path, calls] of RUNTIMES) {
    const granted = new Set<string>(Object.values(calls).flat());

    it(`${name}: list every call its code makes`, async () => {
      const made = [...(await actionsOf(path))].filter(
        (a) => !(a in NOT_MADE_BEHIND_THE_CONSTRUCTS),
      );

      expect(made.filter((a) => !granted.has(a))).toStrictEqual([]);
    });

    it(`${name}: list nothing its code, its mappings or Lambda do not call`, async () => {
      const made = await actionsOf(path);

      expect([...granted].filter((a) => !made.has(a) && !TAKEN_FOR_THE_CODE.has(a))).toStrictEqual(
        [],
      );
    });
  }
});
