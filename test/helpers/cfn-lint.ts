import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pythonTool } from './python-tool.js';

/** The cfn-lint release the templates are checked with. */
export const CFN_LINT_VERSION = '1.58.0';

export interface CfnLintFinding {
  readonly Rule: { readonly Id: string };
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Location: { readonly Path: ReadonlyArray<string | number> };
}

/** Every finding cfn-lint has on a synthesized template. */
export function cfnLint(template: unknown): CfnLintFinding[] {
  const file = join(mkdtempSync(join(tmpdir(), 'eventbox-cfn-lint-')), 'template.json');
  writeFileSync(file, JSON.stringify(template));
  const result = spawnSync(pythonTool('cfn-lint', CFN_LINT_VERSION), ['--format', 'json', file], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  // Exit codes are bit flags of the levels found (2 errors, 4 warnings, 8 informational); 1 is a crash.
  if (result.status === 1 || result.status === null) {
    throw new Error(`cfn-lint failed: ${result.stderr || result.error?.message}`);
  }
  return JSON.parse(result.stdout || '[]') as CfnLintFinding[];
}
