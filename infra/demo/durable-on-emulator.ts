import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import type { Target } from './deploy.js';

/**
 * Makes a function deployed with a `DurableConfig` durable on ministack too. Its
 * CloudFormation drops the property, and its Lambda runs a function as durable only when
 * the configuration carries `Enabled: true`, a field AWS does not have and the SDK does not
 * send, so it is added to the request body here. Where the deployed function kept its
 * `DurableConfig` (AWS, LocalStack) nothing is changed.
 */
export async function keepDurableConfig(target: Target, functionName: string): Promise<void> {
  const lambda = new LambdaClient(target.clientConfig);
  try {
    const config = await lambda.send(
      new GetFunctionConfigurationCommand({ FunctionName: functionName }),
    );
    if (config.DurableConfig) return;
    const update = new UpdateFunctionConfigurationCommand({ FunctionName: functionName });
    update.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body?: string; headers: Record<string, string> };
        request.body = JSON.stringify({
          ...JSON.parse(request.body ?? '{}'),
          DurableConfig: { Enabled: true, ExecutionTimeout: 3600, RetentionPeriodInDays: 7 },
        });
        request.headers['content-length'] = String(Buffer.byteLength(request.body));
        return next(args);
      },
      { step: 'build', priority: 'low', name: 'eventboxEmulatorDurableConfig' },
    );
    await lambda.send(update);
  } finally {
    lambda.destroy();
  }
}
