import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventboxDirs } from '../../lib/testing/emulator/paths.js';
import { findPython } from '../../lib/testing/emulator/prerequisites.js';

/** The cfn-lint release the templates are checked with. */
export const CFN_LINT_VERSION = '1.58.0';

export interface CfnLintFinding {
  readonly Rule: { readonly Id: string };
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Location: { readonly Path: ReadonlyArray<string | number> };
}

/** cfn-lint in a venv of its own under `.eventbox/`, installed on first use. */
function cfnLintBinary(): string {
  const venv = join(eventboxDirs().home, 'cfn-lint-venv');
  const python = join(venv, 'bin', 'python');
  const binary = join(venv, 'bin', 'cfn-lint');
  const installed = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (installed.status === 0 && installed.stdout.includes(CFN_LINT_VERSION)) return binary;
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
    `cfn-lint==${CFN_LINT_VERSION}`,
  ]);
  return binary;
}

/** Every finding cfn-lint has on a synthesized template. */
export function cfnLint(template: unknown): CfnLintFinding[] {
  const file = join(mkdtempSync(join(tmpdir(), 'eventbox-cfn-lint-')), 'template.json');
  writeFileSync(file, JSON.stringify(template));
  const result = spawnSync(cfnLintBinary(), ['--format', 'json', file], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  // Exit codes are bit flags of the levels found (2 errors, 4 warnings, 8 informational); 1 is a crash.
  if (result.status === 1 || result.status === null) {
    throw new Error(`cfn-lint failed: ${result.stderr || result.error?.message}`);
  }
  return JSON.parse(result.stdout || '[]') as CfnLintFinding[];
}
