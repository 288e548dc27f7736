import { type Deployment, deployApp, type Emulator } from '../../lib/testing/index.js';
import { keepDurableConfig } from './durable-on-emulator.js';
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
  readonly RewardsTableName: string;
  readonly RewardsFunctionName: string;
  readonly RewardsQueueUrl: string;
  readonly RewardsDeadLetterQueueUrl: string;
  readonly JobsTableName: string;
  readonly JobRunnerFunctionName: string;
  readonly JobRunnerQueueUrl: string;
  readonly JobRunnerDeadLetterQueueUrl: string;
  readonly DispatcherFunctionName: string;
  readonly DispatcherQueueUrl: string;
  readonly DispatcherDeadLetterQueueUrl: string;
  readonly FraudCheckStateMachineArn: string;
  readonly RefundFunctionName: string;
  readonly AuditQueueUrl: string;
}

/** Where the demo runs: an emulator started by the testing kit, or an external endpoint. */
export type Target = Pick<Emulator, 'endpoint' | 'env' | 'local' | 'clientConfig'>;

export interface DeployExampleOptions {
  readonly target: Target;
  readonly stackName?: string;
  /** Extra environment for the example's functions. */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Deploy the fault-injecting functions (`soak-app.ts`) instead of the example's own. */
  readonly faults?: boolean;
  /** User-score's "not yet" budget. */
  readonly notYetMaxAttempts?: number;
}

const SOAK_APP = 'npx tsx infra/demo/soak-app.ts';

/** Deploys the example app (`infra/app.ts`) with the CDK CLI and returns the stack's outputs. */
export async function deployExample(options: DeployExampleOptions): Promise<ExampleOutputs> {
  const stackName = options.stackName ?? 'EventboxExample';
  let deployment: Deployment;
  try {
    deployment = await deployApp({
      emulator: options.target,
      stackName,
      ...(options.faults ? { app: SOAK_APP } : {}),
      context: {
        'eventbox:stackName': stackName,
        ...(options.notYetMaxAttempts
          ? { 'eventbox:notYetMaxAttempts': String(options.notYetMaxAttempts) }
          : {}),
        ...(options.functionEnvironment
          ? { 'eventbox:functionEnvironment': JSON.stringify(options.functionEnvironment) }
          : {}),
      },
    });
  } catch (error) {
    throw new StageError('deploy', (error as Error).message, [], { cause: error });
  }
  const outputs = deployment.outputs as unknown as ExampleOutputs;
  await keepDurableConfig(options.target, outputs.RefundFunctionName);
  return outputs;
}
