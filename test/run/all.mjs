// The vitest step of `npm test`: the emulator suites (one file at a time, see
// vitest.config.ts) and the others as two vitest runs side by side. In one run, vitest
// starts a project of one worker only after every other project is done, so the two
// would add up. The emulator suites report as they go; the others' report follows.
import { spawn } from 'node:child_process';

const extra = process.argv.slice(2);
// A filter (`npm test -- test/unit/...`) may match files of one run only: the other has none.
const filtered = extra.length > 0 ? ['--passWithNoTests'] : [];

function vitest(projects, live) {
  const args = ['run', ...projects.flatMap((p) => ['--project', p]), ...filtered, ...extra];
  const child = spawn('vitest', args, {
    stdio: ['ignore', live ? 'inherit' : 'pipe', live ? 'inherit' : 'pipe'],
  });
  const output = [];
  child.stdout?.on('data', (chunk) => output.push(chunk));
  child.stderr?.on('data', (chunk) => output.push(chunk));
  return new Promise((resolve) => {
    child.on('error', (error) => resolve({ code: 1, output: [Buffer.from(String(error))] }));
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const [emulated, others] = await Promise.all([
  vitest(['integration'], true),
  vitest(['unit', 'package'], false),
]);
process.stdout.write(Buffer.concat(others.output));
process.exit(emulated.code === 0 && others.code === 0 ? 0 : 1);
