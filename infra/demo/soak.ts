import type { FaultConfig } from '../../functions/demo/config.js';
import { deployExample, type ExampleOutputs, type Target } from './deploy.js';
import { setFaults } from './faults.js';
import { repairByRedrive } from './repair.js';
import { type RunOptions, runClients, runDemo } from './run.js';
import { streamHonoursBatchItemFailures } from './stream-probe.js';
import type { DemoSummary } from './summary.js';

export interface SoakOptions
  extends Pick<RunOptions, 'onDriveProgress' | 'onWaitProgress' | 'seed' | 'maxUsers'> {
  readonly target: Target;
  readonly operations: number;
  readonly faults: FaultConfig;
  readonly stackName?: string;
  /**
   * After the run settles, fix the consumer's injected bug and redrive every letter with
   * `eventbox dlq redrive` processes, killing one half-way first when `killHalfWay`.
   * @default { killHalfWay: false }
   */
  readonly repair?: { readonly killHalfWay: boolean } | false;
  readonly onStage?: (stage: string) => void;
}

export interface SoakReport extends DemoSummary {
  readonly faults: FaultConfig;
  /** Whether the endpoint's stream mapping retries `batchItemFailures` (AWS does). */
  readonly streamHonoursBatchItemFailures: boolean;
  /** Which path carried the relay's partial failures in this run. */
  readonly relayFailurePath: 'batchItemFailures' | 'whole-batch errors';
}

/**
 * Deploys the example with its fault-injecting relay and consumer, runs business operations
 * with faults on, switches them off, waits until quiet and reports what happened to every
 * committed event.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  options.onStage?.('probing the stream event source mapping');
  const honours = options.target.local
    ? await streamHonoursBatchItemFailures(options.target.clientConfig)
    : true;
  options.onStage?.('deploying the example with fault injection');
  const outputs: ExampleOutputs = await deployExample({
    target: options.target,
    faults: true,
    stackName: options.stackName ?? 'EventboxSoak',
    ...(honours ? {} : { functionEnvironment: { EVENTBOX_STREAM_PARTIAL_BATCH: 'unsupported' } }),
  });
  const { lambda } = runClients(options.target);
  const faulty = [
    outputs.RelayFunctionName,
    outputs.UserScoreFunctionName,
    outputs.JobRunnerFunctionName,
  ];
  options.onStage?.('operations with faults on');
  await setFaults(lambda, faulty, options.faults);
  const repair = options.repair ?? { killHalfWay: false };
  const { poisonRegion } = options.faults.consumer;
  const summary = await runDemo({
    target: options.target,
    outputs,
    operations: options.operations,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.maxUsers === undefined ? {} : { maxUsers: options.maxUsers }),
    // Longer than the job queue's visibility timeout (6 × the runner's 60 s): a runner the
    // faults switch stops mid-batch leaves its messages invisible that long.
    idleTimeoutMs: 420_000,
    ...(poisonRegion && repair ? { poisonRegion } : {}),
    afterDrive: async () => {
      options.onStage?.('faults off but the consumer bug; waiting until quiet');
      await setFaults(lambda, faulty, undefined);
      // The bug stays deployed until the repair: what it rejects is dead-lettered meanwhile.
      if (poisonRegion && repair)
        await setFaults(lambda, [outputs.UserScoreFunctionName], {
          ...options.faults,
          putEvents: { throttle: 0, retryable: 0, nonRetryable: 0 },
          consumer: { crashBeforeCommit: 0, crashAfterCommit: 0, poisonRegion },
          jobs: { failure: 0 },
        });
    },
    ...(repair
      ? {
          repair: repairByRedrive({
            target: options.target,
            stackName: options.stackName ?? 'EventboxSoak',
            outputs,
            lambda,
            fixed: [outputs.UserScoreFunctionName],
            killHalfWay: repair.killHalfWay,
            ...(options.onStage ? { onStage: options.onStage } : {}),
          }),
        }
      : {}),
    ...(options.onDriveProgress ? { onDriveProgress: options.onDriveProgress } : {}),
    ...(options.onWaitProgress ? { onWaitProgress: options.onWaitProgress } : {}),
  });
  return {
    ...summary,
    faults: options.faults,
    streamHonoursBatchItemFailures: honours,
    relayFailurePath: honours ? 'batchItemFailures' : 'whole-batch errors',
  };
}
