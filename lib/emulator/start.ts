import { startDynamoDbLocal } from './dynamodb-local.js';
import { type RunningEmulator, startMinistack } from './ministack.js';
import { findProjectRoot } from './paths.js';

/** One place a DynamoDB API answers; contract suites run once per engine. */
export interface DynamoDbEngine {
  readonly name: string;
  readonly endpoint: string;
}

/** SDK client config for an emulator (or for `AWS_ENDPOINT_URL`, with the default credentials). */
export interface EmulatorClientConfig {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** The AWS endpoint the suites and tools use, and how to reach it. */
export interface Emulator {
  /** Every AWS service answers here (ministack, or `AWS_ENDPOINT_URL` when it was set). */
  readonly endpoint: string;
  /** Whether this is a local emulator started here (false for `AWS_ENDPOINT_URL`). */
  readonly local: boolean;
  /** DynamoDB engines to run contract tests on: ministack's, then DynamoDB Local's if started. */
  readonly dynamoDbEngines: readonly DynamoDbEngine[];
  /**
   * The environment a shell, an SDK client or the CDK CLI needs to use the emulator:
   * endpoint, credentials, region and the CDK CLI's settings. Empty for `AWS_ENDPOINT_URL`.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Config for any SDK v3 client: `new SQSClient(emulator.clientConfig)`. */
  readonly clientConfig: EmulatorClientConfig;
  /** Stops what was started and removes its scratch folders; nothing for `AWS_ENDPOINT_URL`. */
  stop(): Promise<void>;
}

export interface StartEmulatorOptions {
  /** Also start DynamoDB Local, AWS's own engine, as a second DynamoDB (needs Java and `amplify-dynamodb-simulator`). @default false */
  readonly dynamoDbLocal?: boolean;
  /** ministack's port. @default a free port */
  readonly port?: number;
  /** DynamoDB Local's port. @default a free port */
  readonly dynamoDbLocalPort?: number;
  /** The project whose `.eventbox/` folder holds the venv and logs. @default the nearest package.json upwards */
  readonly projectRoot?: string;
  /** Where progress lines go (installing the venv). @default stderr */
  readonly log?: (line: string) => void;
}

/** The account id the emulator reports; CDK bootstraps `aws://000000000000/us-east-1`. */
export const EMULATOR_ACCOUNT = '000000000000';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** The environment variables for an emulator endpoint, CDK CLI settings included. */
export function emulatorEnvironment(
  endpoint: string,
  region = 'us-east-1',
): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    CDK_DEFAULT_ACCOUNT: EMULATOR_ACCOUNT,
    CDK_DEFAULT_REGION: region,
    // S3 asset uploads from the CDK CLI must use path-style URLs on localhost.
    CDK_S3_FORCE_PATH_STYLE: '1',
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    // Eventbox's constructs leave out what the emulator's CloudFormation lacks (the bus archive).
    EVENTBOX_EMULATOR: 'true',
  };
}

/**
 * Starts ministack (and, on request, DynamoDB Local), or, when `AWS_ENDPOINT_URL` is set,
 * starts nothing and uses that endpoint (LocalStack, a real account) with the default
 * credential chain.
 *
 * @example
 * const emulator = await startEmulator();
 * const sqs = new SQSClient(emulator.clientConfig);
 * // ...
 * await emulator.stop();
 */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
  const external = process.env.AWS_ENDPOINT_URL;
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (external) {
    return {
      endpoint: external,
      local: false,
      dynamoDbEngines: [{ name: 'external', endpoint: external }],
      env: {},
      clientConfig: { endpoint: external, region },
      stop: async () => {},
    };
  }
  const projectRoot = options.projectRoot ?? findProjectRoot();
  const wanted: Array<Promise<RunningEmulator>> = [
    startMinistack({
      projectRoot,
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.log ? { log: options.log } : {}),
    }),
  ];
  if (options.dynamoDbLocal) {
    wanted.push(
      startDynamoDbLocal({
        projectRoot,
        ...(options.dynamoDbLocalPort === undefined ? {} : { port: options.dynamoDbLocalPort }),
      }),
    );
  }
  const settled = await Promise.allSettled(wanted);
  const running = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((r) => r.stop()));
    throw failed.reason;
  }
  const [ministack] = running;
  if (!ministack) throw new Error('ministack did not start');
  const dynamoDbLocal = running[1];
  return {
    endpoint: ministack.endpoint,
    local: true,
    dynamoDbEngines: running.map((r) => ({ name: r.name, endpoint: r.endpoint })),
    env: {
      ...emulatorEnvironment(ministack.endpoint, region),
      ...(dynamoDbLocal ? { EVENTBOX_DYNAMODB_LOCAL_ENDPOINT: dynamoDbLocal.endpoint } : {}),
    },
    clientConfig: { endpoint: ministack.endpoint, region, credentials },
    stop: async () => {
      await Promise.all(running.map((r) => r.stop()));
    },
  };
}

/**
 * SDK client config for another endpoint of the same environment (a DynamoDB engine, say):
 * the emulator's credentials where it started one, the default chain otherwise.
 */
export function clientConfigFor(
  emulator: Pick<Emulator, 'clientConfig'>,
  endpoint: string = emulator.clientConfig.endpoint,
): EmulatorClientConfig {
  return { ...emulator.clientConfig, endpoint };
}
