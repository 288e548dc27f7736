import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pythonTool } from './python-tool.js';

/** The checkov release the templates are checked with. */
export const CHECKOV_VERSION = '3.3.30';

export interface CheckovFinding {
  readonly checkId: string;
  readonly checkName: string;
  /** The template's logical id of the resource, e.g. `OrdersTable1A2B3C4D`. */
  readonly logicalId: string;
  readonly resourceType: string;
}

/** Every failed checkov check on a synthesized CloudFormation template. */
export function checkov(template: unknown): CheckovFinding[] {
  const file = join(mkdtempSync(join(tmpdir(), 'eventbox-checkov-')), 'template.json');
  writeFileSync(file, JSON.stringify(template));
  const result = spawnSync(
    pythonTool('checkov', CHECKOV_VERSION),
    [
      '-f',
      file,
      '--framework',
      'cloudformation',
      '--output',
      'json',
      '--quiet',
      '--compact',
      // Offline: no guideline download from the vendor's platform.
      '--skip-download',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  // 0: no failed checks, 1: some failed; anything else (or nothing printed) is a crash.
  if ((result.status !== 0 && result.status !== 1) || !result.stdout.trim()) {
    throw new Error(`checkov failed (${result.status}): ${result.stderr || result.error?.message}`);
  }
  const parsed = JSON.parse(result.stdout) as
    | { results?: { failed_checks?: RawFinding[] } }
    | Array<{ results?: { failed_checks?: RawFinding[] } }>;
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  return reports.flatMap((r) =>
    (r.results?.failed_checks ?? []).map((f) => {
      const [resourceType = '', logicalId = ''] = f.resource.split('.');
      return { checkId: f.check_id, checkName: f.check_name, logicalId, resourceType };
    }),
  );
}

interface RawFinding {
  readonly check_id: string;
  readonly check_name: string;
  readonly resource: string;
}
