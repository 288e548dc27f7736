import { InvalidOptionsError } from '../shared/errors.js';
import type { TableLayout } from '../transaction/actions.js';

/** The variable `JobRunner.grantStart` sets on a function that starts jobs. */
export const JOBS_TABLE_VARIABLE = 'EVENTBOX_JOBS_TABLE';

/** The jobs table's keys: string `pk`/`sk`, versions in `version`. */
export function jobsLayout(tableName: string): TableLayout {
  return { tableName, partitionKey: 'pk', sortKey: 'sk', versionAttribute: 'version' };
}

/** The jobs table given, or the one the environment names. */
export function jobsTableFrom(tableName: string | undefined): string {
  const name = tableName ?? process.env[JOBS_TABLE_VARIABLE];
  if (!name) {
    throw new InvalidOptionsError('job start', [
      `tableName: no jobs table; pass { tableName } or set ${JOBS_TABLE_VARIABLE} (JobRunner.grantStart sets it on a function)`,
    ]);
  }
  return name;
}
