import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type OutboxReplayResult, replayOutbox } from '../relay/replay.js';
import { ReplayTableError } from '../relay/replay-table.js';
import { type Deployment, deploymentOf, unrelayedTables } from './deployment.js';
import { fields, table } from './format.js';
import type { CommandIo } from './io.js';
import { progress } from './progress.js';
import { operatorClientConfig, stackResources, targetOptions } from './target.js';
import { CommandError, UsageError } from './usage-error.js';
import { inboxWindowOf, parseWindow, refuseBeyondInbox } from './window.js';

export const outboxUsage = `eventbox outbox replay --since TIME --until TIME [filters] [--dry-run] [--force]

Publishes again, from the tables themselves, the outbox items committed in the window: the
recovery for a relay stopped longer than the stream keeps records (24 hours). Replays every
table the stack's relays read (the box's, additionalTables, and the tables of consumers and
job runners that publish), each to its relay's bus. Finds the items through each table's
sparse outbox-by-time index, never a scan; each aggregate's events go out in version order.
Consumers absorb what they had applied as duplicates. A table without the index is named
and left out; the others are replayed.

  --stack NAME          the deployed stack (or EVENTBOX_STACK): its relays, their tables and buses
  --table NAME          only this table; with --bus, one that no stack names
  --bus NAME            publish to this bus instead of each relay's
  --since, --until      the window (ISO 8601, or an age such as 6h or 2d)
  --aggregate-type T, --aggregate-id ID, --tenant T, --type TYPE   only these events
  --dry-run             count what would be published
  --force               replay events older than the consumers' inbox remembers (they may apply twice)
  --json                print one JSON object`;

const options = {
  ...targetOptions,
  table: { type: 'string' },
  bus: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  'aggregate-type': { type: 'string' },
  'aggregate-id': { type: 'string' },
  tenant: { type: 'string' },
  type: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof options }>>['values'];

/** One table replayed to one bus. */
interface ReplayTarget {
  readonly tableName: string;
  readonly eventBusName: string;
}

/**
 * What to replay where: every table each relay of the stack reads, to that relay's bus
 * (or `--bus`), and the stack's relayed tables no mapping reads now (to the one relay's
 * bus), narrowed by `--table`; `--table` and `--bus` alone need no stack. A table whose
 * bus cannot be told is refused, with why, for the others to go on.
 */
function targetsOf(
  values: Values,
  deployment: Deployment | undefined,
): { targets: ReplayTarget[]; refused: Refusal[] } {
  if (!deployment)
    return {
      targets: [{ tableName: values.table ?? '', eventBusName: values.bus ?? '' }],
      refused: [],
    };
  const targets: ReplayTarget[] = [];
  const refused: Refusal[] = [];
  const add = (tableName: string, bus: string | undefined, why: string) => {
    const eventBusName = values.bus ?? bus;
    if (!eventBusName)
      refused.push({
        tableName,
        reason: `table ${tableName} cannot be replayed: ${why}; give --bus`,
      });
    else if (!targets.some((t) => t.tableName === tableName && t.eventBusName === eventBusName))
      targets.push({ tableName, eventBusName });
  };
  for (const relay of deployment.relays)
    for (const tableName of relay.tables)
      add(
        tableName,
        relay.eventBusName || undefined,
        `relay ${relay.name} names no bus in its environment`,
      );
  const [only] = deployment.relays;
  for (const tableName of unrelayedTables(deployment))
    add(
      tableName,
      deployment.relays.length === 1 ? only?.eventBusName || undefined : undefined,
      'no stream mapping reads it, and the stack does not say which relay would',
    );
  if (values.table) {
    const chosen = targets.filter((t) => t.tableName === values.table);
    const refusedTable = refused.filter((r) => r.tableName === values.table);
    if (chosen.length > 0 || refusedTable.length > 0)
      return { targets: chosen, refused: refusedTable };
    if (values.bus)
      return { targets: [{ tableName: values.table, eventBusName: values.bus }], refused: [] };
    throw new CommandError(
      `no relay of the stack reads table ${values.table}: give --bus to publish its outbox items`,
    );
  }
  if (targets.length === 0 && refused.length === 0)
    throw new CommandError('no relay of the stack reads a table: give --table and --bus');
  return { targets, refused };
}

interface Refusal {
  readonly tableName: string;
  readonly reason: string;
}

type TableOutcome = ReplayTarget & OutboxReplayResult;

export async function outboxCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options });
  if (positionals[0] !== 'replay')
    throw new UsageError(`outbox needs replay; got ${positionals[0] ?? 'nothing'}`);
  const { since, until } = parseWindow(values);
  if (!since || !until) throw new UsageError('give the window: --since TIME --until TIME');
  const standalone = values.table && values.bus && !(values.stack ?? process.env.EVENTBOX_STACK);
  const deployment = standalone
    ? undefined
    : await deploymentOf(await stackResources(values), { mappings: true });
  const { targets, refused } = targetsOf(values, deployment);
  refuseBeyondInbox(since, inboxWindowOf(deployment?.consumers), values.force);
  const client = DynamoDBDocumentClient.from(new DynamoDBClient(operatorClientConfig()));
  const eventBridge = new EventBridgeClient(operatorClientConfig());
  const done: TableOutcome[] = [];
  const bar = progress(io, 'published');
  try {
    for (const target of targets) {
      const published = done.reduce((n, d) => n + d.published, 0);
      const found = done.reduce((n, d) => n + d.found, 0);
      try {
        const result = await replayOutbox({
          client,
          ...target,
          eventBridge,
          since,
          until,
          filter: filterOf(values),
          dryRun: values['dry-run'],
          onProgress: (progress) => {
            if (progress.published > 0)
              bar.update(published + progress.published, found + progress.found);
          },
        });
        done.push({ ...target, ...result });
      } catch (error) {
        if (!(error instanceof ReplayTableError)) throw error;
        refused.push({ tableName: target.tableName, reason: error.message });
      }
    }
  } finally {
    bar.stop();
  }
  const total = (pick: (d: TableOutcome) => number) => done.reduce((n, d) => n + pick(d), 0);
  const summary = {
    dryRun: values['dry-run'],
    since: since.toISOString(),
    until: until.toISOString(),
    found: total((d) => d.found),
    published: total((d) => d.published),
    unpublishable: done.flatMap((d) => d.unpublishable),
    failed: total((d) => d.failed),
    unread: total((d) => d.unread),
    eventIds: done.flatMap((d) => d.eventIds),
    tables: done,
    refused,
  };
  if (values.json) io.out(JSON.stringify(summary));
  else printReplay(io, summary);
  return summary.failed > 0 || summary.unpublishable.length > 0 || refused.length > 0 ? 1 : 0;
}

function filterOf(values: Values) {
  return {
    ...(values['aggregate-type'] ? { aggregateType: values['aggregate-type'] } : {}),
    ...(values['aggregate-id'] ? { aggregateId: values['aggregate-id'] } : {}),
    ...(values.tenant ? { tenantId: values.tenant } : {}),
    ...(values.type ? { eventType: values.type } : {}),
  };
}

function printReplay(
  io: CommandIo,
  summary: {
    dryRun: boolean;
    since: string;
    until: string;
    tables: readonly TableOutcome[];
    refused: ReadonlyArray<{ tableName: string; reason: string }>;
  } & Omit<OutboxReplayResult, 'eventIds'>,
): void {
  const sent = (d: OutboxReplayResult) => (summary.dryRun ? d.eventIds.length : d.published);
  io.out(
    fields([
      ['window', `${summary.since} to ${summary.until}`],
      ['found', summary.found],
      [
        summary.dryRun ? 'would publish' : 'published',
        summary.tables.reduce((n, d) => n + sent(d), 0),
      ],
      ['not publishable', summary.unpublishable.length],
      ['not published (run again)', summary.failed],
      ['  of which DynamoDB left unread', summary.unread],
      ['tables not replayed', summary.refused.length],
    ]),
  );
  io.out('');
  io.out(
    table(
      ['TABLE', 'BUS', 'FOUND', summary.dryRun ? 'WOULD PUBLISH' : 'PUBLISHED', 'FAILED'],
      summary.tables.map((d) => [
        d.tableName,
        d.eventBusName,
        String(d.found),
        String(sent(d)),
        String(d.failed + d.unpublishable.length),
      ]),
    ),
  );
  for (const u of summary.unpublishable) io.out(`  ${u.eventId ?? '?'}: ${u.reason}`);
  for (const r of summary.refused) io.out(`not replayed: ${r.reason}`);
}
