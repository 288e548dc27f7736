import { parseArgs } from 'node:util';
import { MultiBar, Presets } from 'cli-progress';

import {
  type Emulator,
  eventboxDirs,
  PrerequisiteError,
  startEmulator,
} from '../../lib/testing/index.js';
import { deployExample } from './deploy.js';
import { runDemo } from './run.js';
import { positiveInteger, StageError } from './stage-error.js';
import { formatSummary, guaranteesHeld } from './summary.js';

const usage = `npm run demo -- [--operations N] [--json] [--keep] [--seed N]

Starts the local emulator, deploys the example app with the CDK CLI, drives business
operations through the orders service, waits until the user-score service has caught up
and prints what happened to every event.

  --operations N  business operations to run (default 300)
  --json          print the summary as one JSON object
  --keep          leave the emulator running at the end
  --seed N        seed of the generated workload (default 7)`;

// The SDK warns that it will need Node.js 22 from 2027; the demo's output is not the place.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Progress bars on a terminal; a line per tenth of the work otherwise (CI logs). */
function progressReporter(operations: number) {
  if (process.stderr.isTTY) {
    const bars = new MultiBar(
      {
        format: ' {stage} [{bar}] {value}/{total}',
        clearOnComplete: false,
        hideCursor: true,
        stream: process.stderr,
      },
      Presets.shades_classic,
    );
    const drive = bars.create(operations, 0, { stage: 'operations' });
    const wait = bars.create(1, 0, { stage: 'applied   ' });
    return {
      drive: (done: number) => drive.update(done),
      wait: (applied: number, expected: number) => {
        wait.setTotal(expected);
        wait.update(applied);
      },
      stop: () => bars.stop(),
    };
  }
  const reported = { drive: -1, wait: -1 };
  const line = (stage: 'drive' | 'wait', done: number, total: number) => {
    const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
    if (tenth === reported[stage]) return;
    reported[stage] = tenth;
    process.stderr.write(`${stage === 'drive' ? 'operations' : 'applied'}: ${done}/${total}\n`);
  };
  return {
    drive: (done: number) => line('drive', done, operations),
    wait: (applied: number, expected: number) => line('wait', applied, expected),
    stop: () => {},
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      operations: { type: 'string', default: '300' },
      json: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      seed: { type: 'string', default: '7' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const operations = positiveInteger('operations', values.operations);
  const say = (line: string) => process.stderr.write(`${line}\n`);

  let environment: Emulator | undefined;
  const logDir = eventboxDirs().logs;
  try {
    say('starting the emulator (ministack)...');
    environment = await startEmulator().catch((error: unknown) => {
      if (error instanceof PrerequisiteError) throw error;
      throw new StageError('start emulator', (error as Error).message, [logDir], { cause: error });
    });
    say(`deploying the example app to ${environment.endpoint} with the CDK CLI...`);
    const outputs = await deployExample({ target: environment });

    const progress = progressReporter(operations);
    const summary = await runDemo({
      target: environment,
      outputs,
      operations,
      seed: Number(values.seed),
      onDriveProgress: progress.drive,
      onWaitProgress: progress.wait,
    }).finally(progress.stop);

    if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else
      process.stdout.write(
        `\nEventbox demo: what happened to every event\n${formatSummary(summary)}\n`,
      );
    if (values.keep) {
      say(`\nthe emulator keeps running at ${environment.endpoint}; stop it with Ctrl-C`);
      for (const [name, value] of Object.entries(environment.env)) say(`export ${name}=${value}`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    }
    return guaranteesHeld(summary) ? 0 : 2;
  } finally {
    await environment?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof StageError || error instanceof PrerequisiteError)
      process.stderr.write(`\n${error.message}\n`);
    else
      process.stderr.write(
        `\ndemo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n  logs: ${eventboxDirs().logs}\n`,
      );
    process.exit(1);
  },
);
