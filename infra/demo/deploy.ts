import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logDir, projectRoot } from '../../test/emulator/paths.js';
import { StageError } from './stage-error.js';

/** What the example stack exports. */
export interface ExampleOutputs {
  readonly OrdersFunctionName: string;
  readonly OrdersTableName: string;
  readonly EventBusName: string;
  readonly RelayFunctionName: string;
  readonly RelayDeadLetterQueueUrl: string;
  readonly UserScoreTableName: string;
  readonly UserScoreFunctionName: string;
  readonly UserScoreQueueUrl: string;
  readonly UserScoreDeadLetterQueueUrl: string;
  readonly AuditQueueUrl: string;
}

export interface DeployOptions {
  /** The AWS endpoint to deploy to (the emulator). */
  readonly endpoint: string;
  /** Credentials and region for it. */
  readonly env: Readonly<Record<string, string>>;
  /** Whether the endpoint is the local emulator (leaves out what its CloudFormation lacks). */
  readonly emulator: boolean;
  readonly stackName?: string;
  /** Extra environment for the example's functions. */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Deploy the fault-injecting relay and consumer. */
  readonly faults?: boolean;
}

function cdk(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  stage: string,
): Promise<void> {
  mkdirSync(logDir, { recursive: true });
  const log = createWriteStream(logFile, { flags: 'a' });
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(projectRoot, 'node_modules', '.bin', 'cdk'),
      [...args, '--no-notices'],
      {
        cwd: projectRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', (error) =>
      reject(new StageError(stage, error.message, [logFile], { cause: error })),
    );
    child.on('exit', (code) => {
      log.end();
      if (code === 0) resolve();
      else reject(new StageError(stage, `cdk ${args[0]} exited with code ${code}`, [logFile]));
    });
  });
}

/**
 * Bootstraps the environment and deploys the example app with the CDK CLI, as a user
 * would, and returns the stack's outputs.
 */
export async function deployExample(options: DeployOptions): Promise<ExampleOutputs> {
  const stackName = options.stackName ?? 'EventboxExample';
  const cdkHome = join(
    projectRoot,
    '.eventbox',
    'cdk-home',
    new URL(options.endpoint).port || 'default',
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    AWS_ENDPOINT_URL: options.endpoint,
    // The CLI caches the account per access key under its home; one home per endpoint.
    CDK_HOME: cdkHome,
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    ...(options.emulator ? { CDK_S3_FORCE_PATH_STYLE: '1' } : {}),
  };
  const account = options.emulator ? '000000000000' : undefined;
  const region = options.env.AWS_REGION ?? process.env.AWS_REGION ?? 'us-east-1';
  const logFile = join(logDir, `cdk-${stackName}.log`);
  const outputDir = join(projectRoot, '.eventbox', `cdk.out-${stackName}`);
  const outputsFile = join(projectRoot, '.eventbox', `outputs-${stackName}.json`);
  const context = [
    '-c',
    `eventbox:stackName=${stackName}`,
    ...(options.emulator ? ['-c', 'eventbox:emulator=true'] : []),
    ...(options.faults ? ['-c', 'eventbox:faults=true'] : []),
    ...(options.functionEnvironment
      ? ['-c', `eventbox:functionEnvironment=${JSON.stringify(options.functionEnvironment)}`]
      : []),
  ];
  await cdk(
    [
      'bootstrap',
      ...(account ? [`aws://${account}/${region}`] : []),
      '--output',
      outputDir,
      ...context,
    ],
    env,
    logFile,
    'cdk bootstrap',
  );
  await cdk(
    [
      'deploy',
      stackName,
      '--require-approval',
      'never',
      '--progress',
      'events',
      '--output',
      outputDir,
      '--outputs-file',
      outputsFile,
      ...context,
    ],
    env,
    logFile,
    'cdk deploy',
  );
  const outputs = JSON.parse(readFileSync(outputsFile, 'utf8'))[stackName] as
    | ExampleOutputs
    | undefined;
  if (!outputs)
    throw new StageError('cdk deploy', `no outputs for ${stackName} in ${outputsFile}`, [logFile]);
  return outputs;
}
