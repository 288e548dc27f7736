import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionRecord } from './dispatcher.js';
import { JobState } from './records.js';
import type { JobStatus } from './status.js';

/** A Step Functions or durable execution a job id names, as its engine reports it. */
export interface ExecutionStatus {
  readonly engine: 'step-functions' | 'durable-function';
  readonly target: string;
  /** Absent when the engine returned none and lists none under the name. */
  readonly executionArn?: string;
  /**
   * The engine's own status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or STOPPED;
   * STARTED when the dispatcher started it but the engine cannot find it by name yet.
   */
  readonly status: string;
}

/** Clients status reads executions with. */
export interface JobEngines {
  readonly stepFunctions?: SFNClient;
  readonly lambda?: LambdaClient;
}

const ENGINE_STATES: Record<string, JobState> = {
  STARTED: JobState.running,
  RUNNING: JobState.running,
  PENDING_REDRIVE: JobState.stalled,
  SUCCEEDED: JobState.succeeded,
};

interface EngineReport {
  readonly status: string;
  readonly executionArn?: string;
  readonly startedAt?: Date;
  readonly stoppedAt?: Date;
}

async function stepFunctionsReport(
  record: ExecutionRecord,
  client: SFNClient | undefined,
): Promise<EngineReport> {
  const { SFNClient, DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
  const executionArn =
    record.executionArn ??
    `${record.target.replace(':stateMachine:', ':execution:')}:${record.name}`;
  const described = await (client ?? new SFNClient({})).send(
    new DescribeExecutionCommand({ executionArn }),
  );
  return {
    status: described.status ?? 'UNKNOWN',
    executionArn,
    ...(described.startDate ? { startedAt: described.startDate } : {}),
    ...(described.stopDate ? { stoppedAt: described.stopDate } : {}),
  };
}

/** By the ARN the invoke returned, else by the execution's name. */
async function durableReport(
  record: ExecutionRecord,
  client: LambdaClient | undefined,
): Promise<EngineReport> {
  const { LambdaClient, GetDurableExecutionCommand, ListDurableExecutionsByFunctionCommand } =
    await import('@aws-sdk/client-lambda');
  const lambda = client ?? new LambdaClient({});
  let executionArn = record.executionArn;
  if (!executionArn) {
    const listed = await lambda.send(
      new ListDurableExecutionsByFunctionCommand({
        FunctionName: record.target,
        DurableExecutionName: record.name,
      }),
    );
    executionArn = listed.DurableExecutions?.find(
      (e) => e.DurableExecutionName === record.name,
    )?.DurableExecutionArn;
    if (!executionArn) return { status: 'STARTED' };
  }
  const got = await lambda.send(
    new GetDurableExecutionCommand({ DurableExecutionArn: executionArn }),
  );
  return {
    status: got.Status ?? 'UNKNOWN',
    executionArn,
    ...(got.StartTimestamp ? { startedAt: got.StartTimestamp } : {}),
    ...(got.EndTimestamp ? { stoppedAt: got.EndTimestamp } : {}),
  };
}

/** An execution the dispatcher started, as its engine reports it now. */
export async function executionStatus(
  record: ExecutionRecord,
  engines: JobEngines = {},
): Promise<JobStatus> {
  const { status, executionArn, startedAt, stoppedAt } =
    record.engine === 'step-functions'
      ? await stepFunctionsReport(record, engines.stepFunctions)
      : await durableReport(record, engines.lambda);
  return {
    jobId: record.name,
    name: record.target.split(':').pop() ?? record.target,
    state: ENGINE_STATES[status] ?? JobState.failed,
    input: undefined,
    steps: [],
    createdAt: (startedAt ?? new Date(record.startedAt)).toISOString(),
    updatedAt: (stoppedAt ?? startedAt ?? new Date(record.startedAt)).toISOString(),
    ...(stoppedAt ? { finishedAt: stoppedAt.toISOString() } : {}),
    execution: {
      engine: record.engine,
      target: record.target,
      ...(executionArn ? { executionArn } : {}),
      status,
    },
  };
}
