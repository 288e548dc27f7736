import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { TableDescription } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newestOutboxTime } from '../relay/replay.js';
import { describeTable, ReplayTableError, replayableFrom } from '../relay/replay-table.js';
import type { DeployedRelay } from './deployment.js';

/** How long a new outbox item may wait before a relay that has not run since is behind. */
export const RELAY_GRACE_SECONDS = 60;

/** One table a relay reads, as its resources say, with no CloudWatch metric needed. */
export interface RelayedTable {
  readonly tableName: string;
  /** The event source mapping's state (`Enabled` when the relay reads the stream), or `none`. */
  readonly mapping: string;
  /** Age of the newest outbox item of the last two hours, if any (from the by-time index). */
  readonly newestOutboxItemSeconds?: number;
  /**
   * `relaying` (the relay logged after the newest item was written), `quiet` (no outbox item
   * in two hours), `changing` (a deploy is creating or updating the mapping), `stopped`
   * (no mapping, one not enabled, or one on a stream the table no longer has), `failing`
   * (the mapping reports a problem with its batches), `behind` (nothing logged since an item
   * older than a minute), `dropping` (the stream has no new images, so the mapping's filter
   * drops every outbox item), or `unknown` (the table cannot say).
   */
  readonly state:
    | 'relaying'
    | 'quiet'
    | 'changing'
    | 'stopped'
    | 'failing'
    | 'behind'
    | 'dropping'
    | 'unknown';
  readonly problem?: string;
}

const CHANGING = new Set(['Creating', 'Enabling', 'Updating']);
const REPLAY_HINT = 'then outbox replay what the stream no longer holds (records older than 24 h)';

/** A table of the stack no relay's mapping reads (its mapping deleted, say). */
export function unrelayedTable(tableName: string): RelayedTable {
  return {
    tableName,
    mapping: 'none',
    state: 'stopped',
    problem: `no relay reads table ${tableName}: its stream mapping is gone; deploy the stack again to create it, ${REPLAY_HINT}`,
  };
}

/**
 * Whether a relay keeps up with each of its tables, read from the resources themselves:
 * the mapping's state and last result, the table's stream, its newest outbox item, and
 * whether the relay's log has an entry since. These hold on any endpoint, where CloudWatch
 * metrics may have none.
 */
export async function relayedTables(
  clients: { readonly ddb: DynamoDBDocumentClient; readonly logs: CloudWatchLogsClient },
  relay: DeployedRelay,
  now = new Date(),
): Promise<RelayedTable[]> {
  return Promise.all(
    relay.mappings.map(async (mapping): Promise<RelayedTable> => {
      const base = { tableName: mapping.tableName, mapping: mapping.state };
      const about = `relay ${relay.name} for table ${mapping.tableName}`;
      if (CHANGING.has(mapping.state)) return { ...base, state: 'changing' };
      if (mapping.state !== 'Enabled') {
        const why = mapping.stateTransitionReason ? ` (${mapping.stateTransitionReason})` : '';
        return {
          ...base,
          state: 'stopped',
          problem: `${about} is stopped: its stream mapping is ${mapping.state}${why}; enable it, ${REPLAY_HINT}`,
        };
      }
      // One description serves the stream checks and the replay check below.
      const described = await describeTable(clients.ddb, mapping.tableName).catch(
        (error: Error) => error,
      );
      const stream = described instanceof Error ? undefined : streamOf(described);
      if (stream && stream.arn !== mapping.eventSourceArn) {
        return {
          ...base,
          state: 'stopped',
          problem: `${about} is stopped: its mapping reads a stream the table no longer has (${stream.arn ? 'the stream was switched off and on' : 'the table has no stream'}); deploy the stack again to map the table's stream, ${REPLAY_HINT}`,
        };
      }
      const viewType = stream?.viewType;
      if (viewType && viewType !== 'NEW_IMAGE' && viewType !== 'NEW_AND_OLD_IMAGES') {
        return {
          ...base,
          state: 'dropping',
          problem: `${about} drops every outbox item: the stream is ${viewType}, and the relay's filter needs the new image; switch the stream to NEW_AND_OLD_IMAGES, then outbox replay the time it was ${viewType}`,
        };
      }
      if (mapping.lastProcessingResult?.startsWith('PROBLEM')) {
        return {
          ...base,
          state: 'failing',
          problem: `${about} is failing: its stream mapping says "${mapping.lastProcessingResult}"; see the relay's errors and log`,
        };
      }
      // Without its by-time index the table can neither say nor be replayed: a problem.
      const readable = (() => {
        if (described instanceof Error) return described;
        try {
          return replayableFrom(mapping.tableName, described);
        } catch (error) {
          return error as Error;
        }
      })();
      if (readable instanceof ReplayTableError)
        return { ...base, state: 'unknown', problem: readable.message };
      const newest = await newestOutboxTime(clients.ddb, mapping.tableName, now).catch(() => null);
      if (newest === null || readable instanceof Error) return { ...base, state: 'unknown' };
      if (newest === undefined) return { ...base, state: 'quiet' };
      const ageSeconds = Math.max(0, Math.round((now.getTime() - newest.getTime()) / 1000));
      const withAge = { ...base, newestOutboxItemSeconds: ageSeconds };
      if (ageSeconds <= RELAY_GRACE_SECONDS) return { ...withAge, state: 'relaying' };
      const ranSince = await loggedSince(clients.logs, relay.logGroupName, newest);
      if (ranSince !== false) return { ...withAge, state: ranSince ? 'relaying' : 'unknown' };
      return {
        ...withAge,
        state: 'behind',
        problem: `${about} has not run since the table's newest outbox item, written ${ageSeconds} s ago: see its errors and iterator age`,
      };
    }),
  );
}

/**
 * The table's current stream: its ARN (empty when it has none: DynamoDB then leaves
 * `StreamSpecification` out) and view type; undefined without a description.
 */
function streamOf(
  table: TableDescription | undefined,
): { readonly arn: string; readonly viewType?: string } | undefined {
  if (!table) return undefined;
  const spec = table.StreamSpecification;
  if (!spec || spec.StreamEnabled === false) return { arn: '' };
  return {
    arn: table.LatestStreamArn ?? '',
    ...(spec.StreamViewType ? { viewType: spec.StreamViewType } : {}),
  };
}

/** Producers' clocks may run a little ahead of the log's: an entry this much earlier counts. */
const CLOCK_TOLERANCE_MS = 5_000;

/**
 * Whether the log group has an entry since `time`; undefined when it cannot be read. A
 * page may come back empty with a token (CloudWatch Logs searches in chunks), so it reads on.
 */
async function loggedSince(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  time: Date,
): Promise<boolean | undefined> {
  try {
    let nextToken: string | undefined;
    for (let page = 0; page < 20; page++) {
      const found = await logs.send(
        new FilterLogEventsCommand({
          logGroupName,
          startTime: time.getTime() - CLOCK_TOLERANCE_MS,
          limit: 1,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      if ((found.events ?? []).length > 0) return true;
      nextToken = found.nextToken;
      if (!nextToken) return false;
    }
    return undefined;
  } catch {
    return undefined;
  }
}
