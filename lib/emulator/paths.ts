import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The project the tooling works for: the nearest folder, from `start` upwards, that has a
 * `package.json`. Eventbox keeps its caches and logs there, under `.eventbox/`, so each
 * project has its own emulator venv and nothing lands in a global folder.
 */
export function findProjectRoot(start: string = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(start);
    dir = parent;
  }
}

/** Folders under a project's `.eventbox/` (override the root with `EVENTBOX_HOME`). */
export function eventboxDirs(projectRoot: string = findProjectRoot()) {
  const home = process.env.EVENTBOX_HOME ?? join(projectRoot, '.eventbox');
  return {
    projectRoot,
    home,
    /** One file per started process and per CDK command. */
    logs: join(home, 'logs'),
    /** The ministack venv, reused across runs. */
    venv: join(home, 'venv'),
  };
}
