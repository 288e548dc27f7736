import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { eventboxDirs, startEmulator } from '../../lib/testing/index.js';
import { DEFAULT_SOAK_FAULTS } from './faults.js';
import { runSoak } from './soak.js';
import { positiveInteger } from './stage-error.js';
import { formatSummary, guaranteesHeld } from './summary.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * `npm run soak`: the example app under faults (PutEvents throttling and partial failures,
 * consumer crashes before and after their transaction), then quiet; prints what happened to
 * every committed event and writes .eventbox/soak/report.json.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      operations: { type: 'string', default: '2000' },
      json: { type: 'boolean', default: false },
      seed: { type: 'string', default: '7' },
      users: { type: 'string', default: '8' },
    },
  });
  const operations = positiveInteger('operations', values.operations);
  const say = (line: string) => process.stderr.write(`${line}\n`);
  say('starting the emulator (ministack)...');
  const environment = await startEmulator();
  try {
    let last = -1;
    const report = await runSoak({
      target: environment,
      operations,
      seed: Number(values.seed),
      maxUsers: Number(values.users),
      faults: DEFAULT_SOAK_FAULTS,
      repair: { killHalfWay: true },
      onStage: say,
      onDriveProgress: (done, total) => {
        const tenth = Math.floor((done / total) * 10);
        if (tenth !== last) say(`operations: ${done}/${total}`);
        last = tenth;
      },
      onWaitProgress: (settled, expected) => say(`settled: ${settled}/${expected}`),
    });
    const dir = join(eventboxDirs().home, 'soak');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      process.stdout.write(`\nEventbox soak: faults ${JSON.stringify(report.faults)}\n`);
      const path = report.streamHonoursBatchItemFailures
        ? 'batchItemFailures, as on AWS'
        : "whole-batch errors: this endpoint's stream mapping drops batchItemFailures, so the fault relay turns a partial answer into a function error";
      process.stdout.write(
        `relay partial failures went through ${path}\n${formatSummary(report)}\n`,
      );
    }
    return guaranteesHeld(report) ? 0 : 2;
  } finally {
    await environment.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `\n${error instanceof Error ? error.message : String(error)}\n  logs: ${eventboxDirs().logs}\n`,
    );
    process.exit(1);
  },
);
