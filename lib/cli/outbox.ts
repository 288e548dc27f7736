import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { replayOutbox } from '../relay/replay.js';
import { type Deployment, deploymentOf } from './deployment.js';
import { fields } from './format.js';
import type { CommandIo } from './io.js';
import { progress } from './progress.js';
import { stackResources, targetOptions } from './target.js';
import { CommandError, UsageError } from './usage-error.js';
import { inboxWindowOf, parseWindow, refuseBeyondInbox } from './window.js';

export const outboxUsage = `eventbox outbox replay --since TIME --until TIME [filters] [--dry-run] [--force]

Publishes again, from the table itself, the outbox items committed in the window: the
recovery for a relay stopped longer than the stream keeps records (24 hours). Finds them
through the table's sparse outbox-by-time index, never a scan; each aggregate's events go
out in version order. Consumers absorb what they had applied as duplicates.

  --stack NAME          the deployed stack (or EVENTBOX_STACK): its box table and its relay's bus
  --table NAME          another table holding outbox items; --bus NAME the bus to publish to
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

export async function outboxCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options });
  if (positionals[0] !== 'replay')
    throw new UsageError(`outbox needs replay; got ${positionals[0] ?? 'nothing'}`);
  const { since, until } = parseWindow(values);
  if (!since || !until) throw new UsageError('give the window: --since TIME --until TIME');
  let tableName = values.table;
  let eventBusName = values.bus;
  let consumers: Deployment['consumers'] | undefined;
  if (!tableName || !eventBusName) {
    const deployment = await deploymentOf(await stackResources(values));
    tableName ??= deployment.boxTables[0];
    eventBusName ??= deployment.relays[0]?.eventBusName;
    consumers = deployment.consumers;
  }
  if (!tableName || !eventBusName)
    throw new CommandError('no table or bus to replay: give --table and --bus');
  refuseBeyondInbox(since, inboxWindowOf(consumers), values.force);
  const bar = progress(io, 'published');
  const result = await replayOutbox({
    client: DynamoDBDocumentClient.from(new DynamoDBClient({})),
    tableName,
    eventBridge: new EventBridgeClient({}),
    eventBusName,
    since,
    until,
    filter: {
      ...(values['aggregate-type'] ? { aggregateType: values['aggregate-type'] } : {}),
      ...(values['aggregate-id'] ? { aggregateId: values['aggregate-id'] } : {}),
      ...(values.tenant ? { tenantId: values.tenant } : {}),
      ...(values.type ? { eventType: values.type } : {}),
    },
    dryRun: values['dry-run'],
    onProgress: ({ found, published }) => {
      if (published > 0) bar.update(published, found);
    },
  }).finally(() => bar.stop());
  if (values.json)
    io.out(JSON.stringify({ tableName, eventBusName, dryRun: values['dry-run'], ...result }));
  else {
    io.out(
      fields([
        ['table', tableName],
        ['bus', eventBusName],
        ['window', `${since.toISOString()} to ${until.toISOString()}`],
        ['found', result.found],
        [
          values['dry-run'] ? 'would publish' : 'published',
          values['dry-run'] ? result.eventIds.length : result.published,
        ],
        ['not publishable', result.unpublishable.length],
        ['not published (run again)', result.failed],
        ['  of which DynamoDB left unread', result.unread],
      ]),
    );
    for (const u of result.unpublishable) io.out(`  ${u.eventId ?? '?'}: ${u.reason}`);
  }
  return result.failed > 0 || result.unpublishable.length > 0 ? 1 : 0;
}
