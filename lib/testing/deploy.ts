import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventboxDirs, findProjectRoot } from '../emulator/paths.js';
import { EMULATOR_ACCOUNT, type Emulator } from '../emulator/start.js';
import { EventBoxError } from '../shared/errors.js';

/** A CDK CLI command failed; the message names the command and its log file. */
export class DeployError extends EventBoxError {
  override name = 'DeployError';

  constructor(
    readonly command: string,
    message: string,
    readonly logFile: string,
    options?: { cause?: unknown },
  ) {
    super(`${command} failed: ${message}\n  log: ${logFile}`, options);
  }
}

export interface DeployOptions {
  /** Where to deploy: what `startEmulator()` returned (or the same shape for an external endpoint). */
  readonly emulator: Pick<Emulator, 'endpoint' | 'env' | 'local'>;
  /** The stack to deploy; its outputs are returned. */
  readonly stackName: string;
  /** The folder with `cdk.json` and `node_modules/.bin/cdk`. @default the nearest package.json upwards */
  readonly projectDir?: string;
  /** The CDK app command. @default the `app` of the project's cdk.json */
  readonly app?: string;
  /** Context values (`-c key=value`); `eventbox:emulator=true` is added for a local emulator. */
  readonly context?: Readonly<Record<string, string>>;
  /** Skip `cdk bootstrap` (already done for this endpoint). @default false */
  readonly skipBootstrap?: boolean;
  /** Environment for the CDK app (synth) besides the emulator's. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface Deployment {
  /** The stack's CloudFormation outputs, by output name. */
  readonly outputs: Readonly<Record<string, string>>;
  /** The CDK CLI's log of bootstrap and deploy. */
  readonly logFile: string;
}

function cdkBinary(projectDir: string): string {
  const binary = join(projectDir, 'node_modules', '.bin', 'cdk');
  if (!existsSync(binary)) {
    throw new EventBoxError(
      `The CDK CLI is not installed in ${projectDir}: npm install --save-dev aws-cdk (and aws-cdk-lib, constructs, esbuild for the app itself)`,
    );
  }
  return binary;
}

function runCdk(
  binary: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string },
): Promise<void> {
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const command = `cdk ${args[0]}`;
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args, '--no-notices'], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', (error) =>
      reject(new DeployError(command, error.message, options.logFile, { cause: error })),
    );
    child.on('exit', (code) => {
      log.end();
      if (code === 0) resolve();
      else reject(new DeployError(command, `exited with code ${code}`, options.logFile));
    });
  });
}

/**
 * Bootstraps the environment and deploys one stack of a CDK app with the project's own CDK
 * CLI, as a user would, and returns the stack's outputs. For a local emulator it sets the
 * endpoint, credentials, the CLI settings path-style S3 needs, and the context
 * `eventbox:emulator=true` that makes Eventbox's constructs leave out what the emulator's
 * CloudFormation does not know.
 *
 * @example
 * const { outputs } = await deployApp({ emulator, stackName: 'Inventory' });
 * const queueUrl = outputs.QueueUrl;
 */
export async function deployApp(options: DeployOptions): Promise<Deployment> {
  const projectDir = options.projectDir ?? findProjectRoot();
  const dirs = eventboxDirs(projectDir);
  const { emulator, stackName } = options;
  const binary = cdkBinary(projectDir);
  const port = new URL(emulator.endpoint).port || 'default';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...emulator.env,
    ...options.env,
    AWS_ENDPOINT_URL: emulator.endpoint,
    // The CLI caches the account per access key under its home: one home per endpoint.
    CDK_HOME: join(dirs.home, 'cdk-home', port),
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
  mkdirSync(dirs.logs, { recursive: true });
  const logFile = join(dirs.logs, `cdk-${stackName}.log`);
  const outputDir = join(dirs.home, `cdk.out-${stackName}`);
  const outputsFile = join(dirs.home, `outputs-${stackName}.json`);
  const context = {
    ...(emulator.local ? { 'eventbox:emulator': 'true' } : {}),
    ...options.context,
  };
  const common = [
    '--output',
    outputDir,
    ...(options.app ? ['--app', options.app] : []),
    ...Object.entries(context).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
  ];
  const region = emulator.env.AWS_REGION ?? process.env.AWS_REGION ?? 'us-east-1';
  const run = { cwd: projectDir, env, logFile };
  if (!options.skipBootstrap) {
    await runCdk(
      binary,
      ['bootstrap', ...(emulator.local ? [`aws://${EMULATOR_ACCOUNT}/${region}`] : []), ...common],
      run,
    );
  }
  await runCdk(
    binary,
    [
      'deploy',
      stackName,
      '--require-approval',
      'never',
      '--progress',
      'events',
      '--outputs-file',
      outputsFile,
      ...common,
    ],
    run,
  );
  const outputs = JSON.parse(readFileSync(outputsFile, 'utf8'))[stackName] as
    | Record<string, string>
    | undefined;
  if (!outputs)
    throw new DeployError('cdk deploy', `no outputs for ${stackName} in ${outputsFile}`, logFile);
  return { outputs, logFile };
}
