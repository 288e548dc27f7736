import {
  GetFunctionConfigurationCommand,
  type LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { FAULTS_VARIABLE, type FaultConfig } from '../../functions/demo/config.js';

/**
 * Faults at the rates the soak uses by default: 10 to 30 % of calls, and a consumer bug:
 * user-score rejects the region `xx`, which a quarter of the region changes move to.
 */
export const DEFAULT_SOAK_FAULTS: FaultConfig = {
  putEvents: { throttle: 0.1, retryable: 0.2, nonRetryable: 0.01 },
  consumer: { crashBeforeCommit: 0.1, crashAfterCommit: 0.1, poisonRegion: 'xx' },
  jobs: { failure: 0.2 },
};

/**
 * Switches the faults of deployed functions on (a config) or off (undefined) by updating
 * their environment, as an operator would; the next invocations run with it.
 */
export async function setFaults(
  lambda: LambdaClient,
  functionNames: readonly string[],
  faults: FaultConfig | undefined,
): Promise<void> {
  for (const name of functionNames) {
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    const variables = { ...(config.Environment?.Variables ?? {}) };
    if (faults) variables[FAULTS_VARIABLE] = JSON.stringify(faults);
    else delete variables[FAULTS_VARIABLE];
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: name,
        Environment: { Variables: variables },
      }),
    );
  }
}
