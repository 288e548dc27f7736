import { startDynamoDbLocal } from './dynamodb-local.js';
import { type RunningEmulator, startMinistack } from './ministack.js';

/** One place a DynamoDB API answers; the contract suite runs once per engine. */
export interface DynamoDbEngine {
  readonly name: string;
  readonly endpoint: string;
}

export interface EmulatorEnvironment {
  /** The endpoint for every AWS service (ministack, or `AWS_ENDPOINT_URL` when it is set). */
  readonly endpoint: string;
  /** The DynamoDB engines the contract suite runs on. */
  readonly dynamoDbEngines: readonly DynamoDbEngine[];
  /** Credentials and region the emulators accept; empty when an external endpoint is used. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

const emulatorCredentials = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
} as const;

/**
 * Starts ministack and DynamoDB Local side by side, or, when `AWS_ENDPOINT_URL` is set,
 * starts nothing and points every suite at that endpoint (LocalStack, a real account).
 */
export async function startEmulators(
  options: { dynamoDbLocal?: boolean } = {},
): Promise<EmulatorEnvironment> {
  const external = process.env.AWS_ENDPOINT_URL;
  if (external) {
    return {
      endpoint: external,
      dynamoDbEngines: [{ name: 'external', endpoint: external }],
      env: {},
      stop: async () => {},
    };
  }
  const wanted: Array<Promise<RunningEmulator>> = [startMinistack()];
  if (options.dynamoDbLocal ?? true) wanted.push(startDynamoDbLocal());
  const settled = await Promise.allSettled(wanted);
  const running = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((r) => r.stop()));
    throw failed.reason;
  }
  const [ministack] = running;
  if (!ministack) throw new Error('ministack did not start');
  return {
    endpoint: ministack.endpoint,
    dynamoDbEngines: running.map((r) => ({ name: r.name, endpoint: r.endpoint })),
    env: { ...emulatorCredentials, AWS_ENDPOINT_URL: ministack.endpoint },
    stop: async () => {
      await Promise.all(running.map((r) => r.stop()));
    },
  };
}

/**
 * SDK client config for an endpoint: the emulator's credentials where the suite started
 * one (`env` holds them), the default credential chain otherwise.
 */
export function clientConfigFor(endpoint: string, env: Readonly<Record<string, string>>) {
  return {
    endpoint,
    region: env.AWS_REGION ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(env.AWS_ACCESS_KEY_ID
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? 'test',
          },
        }
      : {}),
  };
}
