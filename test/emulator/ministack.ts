import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { logDir, projectRoot } from './paths.js';
import { findPython } from './prerequisites.js';
import { freePort, spawnLogged, waitUntilReady } from './process.js';

/** The emulator version every suite is verified against. */
export const MINISTACK_VERSION = '1.5.33';

const venvDir = join(projectRoot, '.venv');
const venvPython = join(venvDir, 'bin', 'python');
const venvMinistack = join(venvDir, 'bin', 'ministack');

export interface RunningEmulator {
  readonly name: string;
  readonly endpoint: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

function installedVersion(): string | undefined {
  if (!existsSync(venvMinistack)) return undefined;
  const probe = spawnSync(
    venvPython,
    ['-c', 'import importlib.metadata as m; print(m.version("ministack"))'],
    { encoding: 'utf8' },
  );
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/** Creates the project-local venv with the pinned ministack, or reuses it when it is already there. */
export function ensureMinistackInstalled(log: (line: string) => void = () => {}): void {
  if (installedVersion() === MINISTACK_VERSION) return;
  const python = findPython();
  if (!existsSync(venvPython)) {
    log(`creating Python venv in ${venvDir}`);
    run(python, ['-m', 'venv', venvDir]);
  }
  log(`installing ministack==${MINISTACK_VERSION} into ${venvDir}`);
  run(venvPython, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `ministack==${MINISTACK_VERSION}`,
  ]);
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
  }
}

/**
 * Starts ministack on a free port with Lambda functions run as local Node.js processes.
 * The endpoint uses `localhost` because S3 path-style asset URLs from the CDK CLI need it.
 */
export async function startMinistack(): Promise<RunningEmulator> {
  ensureMinistackInstalled((line) => process.stderr.write(`[eventbox] ${line}\n`));
  const port = await freePort();
  const spawned = spawnLogged(venvMinistack, [], {
    cwd: projectRoot,
    logFile: join(logDir, `ministack-${port}.log`),
    env: {
      ...process.env,
      BIND_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      LAMBDA_EXECUTOR: 'local',
      IOT_MTLS_ENABLED: '0',
      // Lambda workers inherit this environment; CDK's own custom-resource handlers
      // expect the AWS SDK v3 to be resolvable as it is on the managed runtime.
      NODE_PATH: join(projectRoot, 'node_modules'),
    },
  });
  const health = `http://127.0.0.1:${port}/_ministack/health`;
  await waitUntilReady('ministack', spawned, async () => (await fetch(health)).ok, 60_000);
  return {
    name: 'ministack',
    endpoint: `http://localhost:${port}`,
    logFile: spawned.logFile,
    stop: () => spawned.stop(),
  };
}
