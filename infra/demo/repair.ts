import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { EventEnvelope } from '../../lib/producer/index.js';
import { reasonKind } from '../../lib/testing/index.js';
import type { ExampleOutputs, Target } from './deploy.js';
import { setFaults } from './faults.js';
import type { Letter } from './hops.js';
import { outageBusiness, relayOutage } from './outage.js';

/** What the run gives its repair: its letters, a way to wait until quiet, its users. */
export interface RepairRun {
  readonly letters: readonly Letter[];
  readonly settle: () => Promise<readonly Letter[]>;
  readonly runId: string;
  readonly users: readonly string[];
  /** How many of these events user-score has applied. */
  readonly applied: (events: readonly EventEnvelope[]) => Promise<number>;
  /** Counts more committed events in the run's accounting. */
  readonly addEvents: (events: readonly EventEnvelope[]) => void;
}

/** What the soak's repair phase did and what it left. */
export interface RepairReport {
  /** Letters in every dead-letter queue once the run first settled, by reason. */
  readonly lettersBefore: number;
  readonly reasonsBefore: Readonly<Record<string, number>>;
  /** Share of the redrives' and the replay's SendMessage calls and PutEvents entries failed. */
  readonly sendFailures: number;
  /** Redrive processes killed half-way (their letters come back after the 5-minute hide). */
  readonly killedRedrives: number;
  /** Redrives run to the end, at once in pairs, until no letter was left (at most 3). */
  readonly rounds: number;
  readonly lettersAfter: number;
  readonly reasonsAfter: Readonly<Record<string, number>>;
  /** What a redrive run once everything settled found to do: nothing. */
  readonly lastRedriveSent: number;
  /** The relay outage past the stream's retention, and the outbox replay that repaired it. */
  readonly outage: {
    /** Events the orders service committed while the relay's mapping was gone. */
    readonly committed: number;
    /** Of their user-score events, applied before the replay: none, the records were lost. */
    readonly appliedBeforeReplay: number;
    /** The replay's window started this long before the outage: events delivered already. */
    readonly overlapSeconds: number;
    readonly replayFound: number;
    readonly replayPublished: number;
    readonly replayExit: number | null;
  };
}

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = fileURLToPath(new URL('../../lib/cli/bin.ts', import.meta.url));
const faults = fileURLToPath(new URL('./cli-faults.ts', import.meta.url));

/** What fails in an `eventbox` process the soak runs (`cli-faults.ts`). */
export interface CliFaults {
  /** Share of SendMessage calls throttled, and of PutEvents entries answered as failed. */
  readonly sendFailures?: number;
  /** Killed right after this many events sent on. */
  readonly killAfterSends?: number;
}

/** Runs `eventbox` as a process against the target, as an on-call engineer would. */
export async function runEventbox(
  target: Pick<Target, 'env'>,
  args: readonly string[],
  cliFaults: CliFaults = {},
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', faults, bin, ...args], {
    cwd: root,
    env: {
      ...process.env,
      ...target.env,
      EVENTBOX_SOAK_SEND_FAILURES: String(cliFaults.sendFailures ?? 0),
      EVENTBOX_SOAK_KILL_AFTER_SENDS: String(cliFaults.killAfterSends ?? 0),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  return { code, signal, out, err };
}

const reasons = (letters: readonly Letter[]) => {
  const counted: Record<string, number> = {};
  for (const l of letters) counted[reasonKind(l.reason)] = (counted[reasonKind(l.reason)] ?? 0) + 1;
  return counted;
};

/**
 * The repair an on-call engineer does once the run has settled: the consumer's bug fixed
 * (its fault switched off), then `eventbox dlq redrive` run as a process: optionally one
 * killed half-way first, then two at once, again until no letter is left. The run waits
 * until quiet after each.
 */
export function repairByRedrive(options: {
  readonly target: Pick<Target, 'env'>;
  readonly stackName: string;
  readonly outputs: ExampleOutputs;
  readonly lambda: LambdaClient;
  /** The functions whose bug the fix removes. */
  readonly fixed: readonly string[];
  readonly killHalfWay: boolean;
  /** Share of the redrives' and the replay's sends that fail (`CliFaults`). @default 0.2 */
  readonly sendFailures?: number;
  readonly onStage?: (stage: string) => void;
}) {
  const sendFailures = options.sendFailures ?? 0.2;
  const redriveArgs = ['dlq', 'redrive', '--stack', options.stackName, '--json'];
  const redrive = () => runEventbox(options.target, redriveArgs, { sendFailures });
  return async (run: RepairRun): Promise<RepairReport> => {
    const before = run.letters;
    options.onStage?.(`repair: ${before.length} letters; the fix deployed`);
    await setFaults(options.lambda, options.fixed, undefined);
    let killedRedrives = 0;
    if (options.killHalfWay && before.length > 1) {
      options.onStage?.('repair: a redrive killed half-way');
      const killed = await runEventbox(options.target, redriveArgs, {
        sendFailures,
        killAfterSends: Math.ceil(before.length / 2),
      });
      if (killed.signal === 'SIGKILL') killedRedrives++;
      // Its letters stay hidden until the redrive's 5-minute hide ends.
      await new Promise((resolve) => setTimeout(resolve, 305_000));
    }
    let rounds = 0;
    let letters = before;
    while (letters.length > 0 && rounds < 3) {
      rounds++;
      options.onStage?.(`repair: redrive round ${rounds}, two at once`);
      const runs = await Promise.all([redrive(), redrive()]);
      for (const r of runs)
        if (r.code !== 0 && r.code !== 1)
          throw new Error(`eventbox dlq redrive failed (${r.code}): ${r.err.trim()}`);
      letters = await run.settle();
    }
    const outage = await outageRepaired(options, run);
    letters = await run.settle();
    const last = await redrive();
    const sent = (JSON.parse(last.out || '{}') as { redriven?: unknown[] }).redriven?.length ?? -1;
    return {
      sendFailures,
      outage,
      lettersBefore: before.length,
      reasonsBefore: reasons(before),
      killedRedrives,
      rounds,
      lettersAfter: letters.length,
      reasonsAfter: reasons(letters),
      lastRedriveSent: sent,
    };
  };
}

const OVERLAP_SECONDS = 120;

/**
 * The relay's mapping of the orders table gone while the business goes on, then back from
 * the stream's newest record: those events never reach the relay. `eventbox outbox replay`
 * over a window that starts before the outage (so it also sends events delivered already)
 * brings them home; the consumers absorb the rest as duplicates.
 */
async function outageRepaired(
  options: Parameters<typeof repairByRedrive>[0],
  run: RepairRun,
): Promise<RepairReport['outage']> {
  const { lambda, outputs } = options;
  const since = new Date(Date.now() - OVERLAP_SECONDS * 1000);
  options.onStage?.("repair: a relay outage past the stream's retention");
  const users = run.users.slice(0, 4);
  const committed = await relayOutage(
    lambda,
    outputs.RelayFunctionName,
    outputs.OrdersTableName,
    () => outageBusiness(lambda, outputs.OrdersFunctionName, users, run.runId),
  );
  run.addEvents(committed);
  // Long enough for a relay that still read those records to have delivered them.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const appliedBeforeReplay = await run.applied(committed);
  options.onStage?.('repair: eventbox outbox replay');
  const replay = await runEventbox(
    options.target,
    [
      'outbox',
      'replay',
      '--stack',
      options.stackName,
      '--since',
      since.toISOString(),
      '--until',
      new Date().toISOString(),
      '--json',
    ],
    { sendFailures: options.sendFailures ?? 0.2 },
  );
  const replayed = JSON.parse(replay.out || '{}') as { found?: number; published?: number };
  return {
    committed: committed.length,
    appliedBeforeReplay,
    overlapSeconds: OVERLAP_SECONDS,
    replayFound: replayed.found ?? -1,
    replayPublished: replayed.published ?? -1,
    replayExit: replay.code,
  };
}
