import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { eventboxDirs } from '../../lib/emulator/paths.js';
import { findPython } from '../../lib/emulator/prerequisites.js';

/**
 * A pinned Python tool in a venv of its own under `.eventbox/`, installed from PyPI on
 * first use: the path of its console script.
 */
export function pythonTool(name: string, version: string): string {
  const venv = join(eventboxDirs().home, `${name}-venv`);
  const python = join(venv, 'bin', 'python');
  const binary = join(venv, 'bin', name);
  const installed = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (installed.status === 0 && installed.stdout.includes(version)) return binary;
  const step = (command: string, args: string[]) => {
    const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed`);
  };
  if (!existsSync(python)) step(findPython(), ['-m', 'venv', venv]);
  step(python, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `${name}==${version}`,
  ]);
  return binary;
}
