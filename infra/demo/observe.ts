import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetFunctionConfigurationCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** The JSON log lines (Powertools Logger) a function wrote since `since`. */
export async function jsonLogLines(
  lambda: LambdaClient,
  logs: CloudWatchLogsClient,
  functionName: string,
  since: number,
): Promise<Array<Record<string, unknown>>> {
  const config = await lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: functionName }),
  );
  const logGroupName = config.LoggingConfig?.LogGroup ?? `/aws/lambda/${functionName}`;
  const lines: Array<Record<string, unknown>> = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({ logGroupName, startTime: since, nextToken }),
    );
    for (const event of page.events ?? []) {
      const start = event.message?.indexOf('{') ?? -1;
      if (start < 0 || !event.message) continue;
      try {
        lines.push(JSON.parse(event.message.slice(start)) as Record<string, unknown>);
      } catch {
        // A plain text line: not the logger's.
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return lines;
}

/** What the inbox's log lines say about some events: how often each was handled, and so on. */
export interface ConsumerLogFacts {
  /** "handled" lines per event. */
  readonly handled: Map<string, number>;
  readonly duplicates: number;
  readonly staleSkipped: number;
  readonly notYetRetries: number;
  readonly conflictRetries: number;
  readonly failures: number;
}

/** Counts, for the given event ids only, what the inbox did: several runs can share a deployment. */
export function consumerLogFacts(
  lines: ReadonlyArray<Record<string, unknown>>,
  eventIds: ReadonlySet<string>,
): ConsumerLogFacts {
  const facts = {
    handled: new Map<string, number>(),
    duplicates: 0,
    staleSkipped: 0,
    notYetRetries: 0,
    conflictRetries: 0,
    failures: 0,
  };
  for (const line of lines) {
    const eventId = line.eventId;
    if (typeof eventId !== 'string' || !eventIds.has(eventId)) continue;
    if (line.message === 'handled') {
      facts.handled.set(eventId, (facts.handled.get(eventId) ?? 0) + 1);
      facts.staleSkipped += Number(line.staleSkipped ?? 0);
    } else if (line.message === 'duplicate ignored') facts.duplicates++;
    else if (line.message === 'retry later' && line.kind === 'not-yet') facts.notYetRetries++;
    else if (line.message === 'retry later') facts.conflictRetries++;
    else if (line.message === 'handler failed; the message comes back') facts.failures++;
  }
  return facts;
}

/** What the relay's log lines say: entries rejected by code, whole calls that failed. */
export function relayLogFacts(lines: ReadonlyArray<Record<string, unknown>>) {
  const rejectedEntries: Record<string, number> = {};
  let failedCalls = 0;
  for (const line of lines) {
    if (line.message === 'entry rejected' && typeof line.errorCode === 'string') {
      rejectedEntries[line.errorCode] = (rejectedEntries[line.errorCode] ?? 0) + 1;
    } else if (line.message === 'PutEvents call failed') failedCalls++;
  }
  return { rejectedEntries, failedCalls };
}

export { CloudWatchLogsClient };
