import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventboxDirs } from './paths.js';
import { findPython } from './prerequisites.js';
import { freePort, spawnLogged, waitUntilReady } from './process.js';

/** The emulator version every suite is verified against. */
export const MINISTACK_VERSION = '1.5.33';

/** A started emulator process. */
export interface RunningEmulator {
  readonly name: string;
  readonly endpoint: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

function venvPaths(venv: string) {
  return {
    python: join(venv, 'bin', 'python'),
    ministack: join(venv, 'bin', 'ministack'),
  };
}

function installedVersion(venv: string): string | undefined {
  const { python, ministack } = venvPaths(venv);
  if (!existsSync(ministack)) return undefined;
  const probe = spawnSync(
    python,
    ['-c', 'import importlib.metadata as m; print(m.version("ministack"))'],
    { encoding: 'utf8' },
  );
  return probe.status === 0 ? probe.stdout.trim() : undefined;
}

/**
 * Creates the project's venv with the pinned ministack, or reuses it when it is there.
 * @returns the venv folder.
 */
export function ensureMinistackInstalled(
  options: { readonly projectRoot?: string; readonly log?: (line: string) => void } = {},
): string {
  const { venv } = eventboxDirs(options.projectRoot);
  const log = options.log ?? (() => {});
  if (installedVersion(venv) === MINISTACK_VERSION) return venv;
  const python = findPython();
  const paths = venvPaths(venv);
  if (!existsSync(paths.python)) {
    log(`creating a Python venv in ${venv}`);
    run(python, ['-m', 'venv', venv]);
  }
  log(`installing ministack==${MINISTACK_VERSION} into ${venv}`);
  run(paths.python, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `ministack==${MINISTACK_VERSION}`,
  ]);
  return venv;
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}`);
  }
}

export interface MinistackOptions {
  /** The project whose `.eventbox/` holds the venv, logs and scratch space. @default the nearest package.json upwards from the working directory */
  readonly projectRoot?: string;
  /** A fixed port. @default a free one */
  readonly port?: number;
  readonly log?: (line: string) => void;
}

/**
 * Starts ministack with Lambda functions run as local Node.js processes. The endpoint uses
 * `localhost` because S3 path-style asset URLs from the CDK CLI need it.
 */
export async function startMinistack(options: MinistackOptions = {}): Promise<RunningEmulator> {
  const dirs = eventboxDirs(options.projectRoot);
  const venv = ensureMinistackInstalled({
    projectRoot: dirs.projectRoot,
    log: options.log ?? ((line) => process.stderr.write(`[eventbox] ${line}\n`)),
  });
  const port = options.port ?? (await freePort());
  // Lambda workers write their code folders to TMPDIR: one of our own, removed on stop.
  // Outside the project, so that no package.json of the project (its "type") applies to them.
  const tmp = mkdtempSync(join(tmpdir(), `eventbox-ministack-${port}-`));
  const spawned = spawnLogged(venvPaths(venv).ministack, [], {
    cwd: dirs.projectRoot,
    logFile: join(dirs.logs, `ministack-${port}.log`),
    env: {
      ...process.env,
      BIND_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      LAMBDA_EXECUTOR: 'local',
      IOT_MTLS_ENABLED: '0',
      TMPDIR: tmp,
      // Lambda workers inherit this environment; CDK's own custom-resource handlers
      // expect the AWS SDK v3 to be resolvable as it is on the managed runtime.
      NODE_PATH: join(dirs.projectRoot, 'node_modules'),
    },
    onStopped: () => rmSync(tmp, { recursive: true, force: true }),
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
