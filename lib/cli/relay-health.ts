import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newestOutboxTime } from '../relay/replay.js';
import type { DeployedRelay } from './deployment.js';

/** How long a new outbox item may wait before a relay that has not run since is behind. */
export const RELAY_GRACE_SECONDS = 60;

/** One table a relay reads, as its resources say, with no CloudWatch metric needed. */
export interface RelayedTable {
  readonly tableName: string;
  /** The event source mapping's state: `Enabled` when the relay reads the stream. */
  readonly mapping: string;
  /** Age of the newest outbox item of the last two hours, if any (from the by-time index). */
  readonly newestOutboxItemSeconds?: number;
  /**
   * `relaying` (the relay ran after the newest item was written), `quiet` (no outbox item
   * in two hours), `stopped` (the mapping is not enabled), `behind` (the relay has not run
   * since an item older than a minute), `dropping` (the stream has no new images, so the
   * mapping's filter drops every outbox item), or `unknown` (the table cannot say).
   */
  readonly state: 'relaying' | 'quiet' | 'stopped' | 'behind' | 'dropping' | 'unknown';
  readonly problem?: string;
}

/**
 * Whether a relay keeps up with each of its tables, read from the resources themselves:
 * the mapping's state, the table's newest outbox item, and whether the relay's log has an
 * entry since. These hold on any endpoint, where CloudWatch metrics may have none.
 */
export async function relayedTables(
  clients: { readonly ddb: DynamoDBDocumentClient; readonly logs: CloudWatchLogsClient },
  relay: DeployedRelay,
  now = new Date(),
): Promise<RelayedTable[]> {
  return Promise.all(
    relay.mappings.map(async (mapping): Promise<RelayedTable> => {
      const base = { tableName: mapping.tableName, mapping: mapping.state };
      if (mapping.state !== 'Enabled') {
        const why = mapping.stateTransitionReason ? ` (${mapping.stateTransitionReason})` : '';
        return {
          ...base,
          state: 'stopped',
          problem: `relay ${relay.name} is stopped for table ${mapping.tableName}: its stream mapping is ${mapping.state}${why}; enable it, then outbox replay what the stream no longer holds (records older than 24 h)`,
        };
      }
      const viewType = await streamViewType(clients.ddb, mapping.tableName);
      if (viewType && viewType !== 'NEW_IMAGE' && viewType !== 'NEW_AND_OLD_IMAGES') {
        return {
          ...base,
          state: 'dropping',
          problem: `relay ${relay.name} drops every outbox item of table ${mapping.tableName}: its stream is ${viewType}, and the relay's filter needs the new image; switch the stream to NEW_AND_OLD_IMAGES, then outbox replay the time it was ${viewType}`,
        };
      }
      const newest = await newestOutboxTime(clients.ddb, mapping.tableName, now).catch(() => null);
      if (newest === null) return { ...base, state: 'unknown' };
      if (newest === undefined) return { ...base, state: 'quiet' };
      const ageSeconds = Math.max(0, Math.round((now.getTime() - newest.getTime()) / 1000));
      const withAge = { ...base, newestOutboxItemSeconds: ageSeconds };
      if (ageSeconds <= RELAY_GRACE_SECONDS) return { ...withAge, state: 'relaying' };
      const ranSince = await loggedSince(clients.logs, relay.logGroupName, newest);
      if (ranSince !== false) return { ...withAge, state: ranSince ? 'relaying' : 'unknown' };
      return {
        ...withAge,
        state: 'behind',
        problem: `relay ${relay.name} has not run since table ${mapping.tableName}'s newest outbox item, written ${ageSeconds} s ago: see its errors and iterator age`,
      };
    }),
  );
}

/** The table's stream view type (`none` without a stream); undefined when it cannot be read. */
async function streamViewType(
  ddb: DynamoDBDocumentClient,
  tableName: string,
): Promise<string | undefined> {
  try {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    const stream = Table?.StreamSpecification;
    return stream?.StreamEnabled === false ? 'none' : stream?.StreamViewType;
  } catch {
    return undefined;
  }
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
