import { parseArgs } from 'node:util';
import {
  DescribeArchiveCommand,
  DescribeReplayCommand,
  EventBridgeClient,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { type Deployment, deploymentOf } from './deployment.js';
import { fields } from './format.js';
import type { CommandIo } from './io.js';
import { operatorClientConfig, stackResources, targetOptions } from './target.js';
import { CommandError, UsageError } from './usage-error.js';
import { inboxWindowOf, parseWindow, refuseBeyondInbox } from './window.js';

export const archiveUsage = `eventbox archive replay --since TIME --until TIME [--rule ARN ...] [--wait] [--dry-run] [--force]

Replays the bus archive's events of the window onto the bus, through EventBridge's replay
(to every rule, or only the rules named). Refuses a window further back than the
consumers' inbox remembers, unless forced.

  --stack NAME     the deployed stack (or EVENTBOX_STACK); --archive NAME names the archive instead
  --rule ARN       replay only to this rule (repeatable)
  --wait           wait until the replay has completed
  --dry-run        say what would be replayed
  --force          replay events older than the consumers' inbox remembers (they may apply twice)
  --json           print one JSON object`;

const options = {
  ...targetOptions,
  archive: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  rule: { type: 'string', multiple: true },
  wait: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
} as const;

export async function archiveCommand(
  args: readonly string[],
  io: CommandIo,
  eventBridge = new EventBridgeClient(operatorClientConfig()),
): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options });
  if (positionals[0] !== 'replay')
    throw new UsageError(`archive needs replay; got ${positionals[0] ?? 'nothing'}`);
  const { since, until } = parseWindow(values);
  if (!since || !until) throw new UsageError('give the window: --since TIME --until TIME');
  let archiveName = values.archive;
  let consumers: Deployment['consumers'] | undefined;
  if (!archiveName || values.stack || process.env.EVENTBOX_STACK) {
    const deployment = await deploymentOf(await stackResources(values));
    archiveName ??= deployment.archives[0];
    consumers = deployment.consumers;
  }
  if (!archiveName) throw new CommandError('the stack has no archive (archiveRetention: false?)');
  refuseBeyondInbox(since, inboxWindowOf(consumers), values.force);
  const archive = await eventBridge.send(new DescribeArchiveCommand({ ArchiveName: archiveName }));
  if (!archive.ArchiveArn || !archive.EventSourceArn)
    throw new CommandError(`archive ${archiveName} has no ARN or source bus`);
  const replayName = `eventbox-${since
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 14)}-${Date.now().toString(36)}`;
  const request = {
    ReplayName: replayName,
    EventSourceArn: archive.ArchiveArn,
    EventStartTime: since,
    EventEndTime: until,
    Destination: {
      Arn: archive.EventSourceArn,
      ...(values.rule ? { FilterArns: values.rule } : {}),
    },
  };
  if (values['dry-run']) {
    io.out(
      values.json
        ? JSON.stringify({ dryRun: true, ...request })
        : `would replay ${archiveName} from ${since.toISOString()} to ${until.toISOString()} onto ${archive.EventSourceArn}`,
    );
    return 0;
  }
  const started = await eventBridge.send(new StartReplayCommand(request));
  let state = started.State ?? 'STARTING';
  let reason: string | undefined;
  while (values.wait && !['COMPLETED', 'FAILED', 'CANCELLED'].includes(state)) {
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const replay = await eventBridge.send(new DescribeReplayCommand({ ReplayName: replayName }));
    state = replay.State ?? state;
    reason = replay.StateReason;
  }
  if (values.json) io.out(JSON.stringify({ replayName, state, ...(reason ? { reason } : {}) }));
  else
    io.out(
      fields([
        ['replay', replayName],
        ['archive', archiveName],
        ['state', state],
        ['reason', reason],
      ]),
    );
  return state === 'FAILED' ? 1 : 0;
}
