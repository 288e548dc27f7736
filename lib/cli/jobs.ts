import { parseArgs } from 'node:util';
import { JobClient } from '../jobs/client.js';
import { JobNotFoundError, JobNotResumableError } from '../jobs/errors.js';
import { JobState } from '../jobs/records.js';
import type { JobStatus } from '../jobs/status.js';
import { fields, table } from './format.js';
import type { CommandIo } from './io.js';
import { pick } from './stack.js';
import { stackResources, targetOptions } from './target.js';
import { CommandError, UsageError } from './usage-error.js';

export const jobsUsage = `eventbox jobs list [--state S] [--name N] [--since TIME] [--limit N]
eventbox jobs show <job id>
eventbox jobs resume <job id> [--dry-run]

Lists jobs by state, shows one job's status (every step and task with attempts and last
error), or resumes a job: a stalled one re-runs only what is not done; a pending or
running one whose message is gone gets its messages again.

  --stack NAME    the deployed stack (or EVENTBOX_STACK); --table NAME instead names the jobs table
  --runner NAME   the runner, when the stack has several
  --state S       pending, running, succeeded, failed or stalled
  --json          print one JSON object`;

const options = {
  ...targetOptions,
  table: { type: 'string' },
  runner: { type: 'string' },
  state: { type: 'string' },
  name: { type: 'string' },
  since: { type: 'string' },
  limit: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
} as const;

async function jobsTable(values: {
  table?: string;
  stack?: string;
  runner?: string;
}): Promise<string> {
  if (values.table) return values.table;
  const resources = await stackResources(values);
  return pick(resources, 'jobs-table', values.runner ? { runner: values.runner } : undefined)
    .physicalId;
}

function describe(status: JobStatus): string {
  const head = fields([
    ['job', status.jobId],
    ['name', status.name],
    ['state', status.state],
    [
      'at step',
      status.currentStep
        ? `${status.currentStep.index + 1}. ${status.currentStep.name}`
        : undefined,
    ],
    ['reason', status.reason],
    ['created', status.createdAt],
    ['updated', status.updatedAt],
    ['finished', status.finishedAt],
    ['engine', status.execution?.engine],
    ['target', status.execution?.target],
    ['execution', status.execution?.executionArn],
    ['engine status', status.execution?.status],
  ]);
  if (status.execution) return head;
  const rows = status.steps.flatMap((step, i) => [
    [`${i + 1}. ${step.name}`, step.state, String(step.attempts), step.lastError ?? ''],
    ...(step.tasks ?? []).map((task) => [
      `   ${task.name}`,
      task.state,
      `${task.attempts}${task.round > 1 ? ` (round ${task.round})` : ''}`,
      task.lastError ?? '',
    ]),
  ]);
  return `${head}\n\n${table(['STEP / TASK', 'STATE', 'ATTEMPTS', 'LAST ERROR'], rows)}`;
}

export async function jobsCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options });
  const [action, jobId] = positionals;
  const jobs = new JobClient({ tableName: await jobsTable(values) });
  switch (action) {
    case 'list': {
      const state = values.state;
      if (state !== undefined && !(Object.values(JobState) as string[]).includes(state))
        throw new UsageError(
          `--state must be one of ${Object.values(JobState).join(', ')}; got ${state}`,
        );
      const since = values.since === undefined ? undefined : new Date(values.since);
      if (since && Number.isNaN(since.getTime()))
        throw new UsageError(`--since must be a date and time (ISO 8601); got ${values.since}`);
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 1000))
        throw new UsageError(`--limit must be an integer from 1 to 1000; got ${values.limit}`);
      const found = await jobs.list({
        ...(state ? { state: state as JobState } : {}),
        ...(values.name ? { name: values.name } : {}),
        ...(since ? { since } : {}),
        ...(limit ? { limit } : {}),
      });
      if (values.json) io.out(JSON.stringify({ jobs: found }));
      else {
        io.out(
          table(
            ['JOB', 'NAME', 'STATE', 'CREATED'],
            found.map((j) => [j.jobId, j.name, j.state, j.createdAt]),
          ),
        );
        io.out(`\n${found.length} job(s)`);
      }
      return 0;
    }
    case 'show': {
      if (!jobId) throw new UsageError('jobs show needs a job id');
      const status = await jobs.status(jobId);
      if (!status) throw new CommandError(new JobNotFoundError(jobId).message);
      io.out(values.json ? JSON.stringify(status) : describe(status));
      return 0;
    }
    case 'resume': {
      if (!jobId) throw new UsageError('jobs resume needs a job id');
      const status = await jobs.status(jobId);
      if (!status) throw new CommandError(new JobNotFoundError(jobId).message);
      if (status.execution)
        throw new CommandError(
          `${jobId} is a ${status.execution.engine} execution, not a job: its engine resumes it (RedriveExecution for Step Functions)`,
        );
      if (status.state === JobState.succeeded || status.state === JobState.failed)
        throw new CommandError(new JobNotResumableError(jobId, status.state).message);
      if (status.state !== JobState.stalled) {
        // Pending or running: its messages go out again, in case they are gone.
        if (!values['dry-run']) await jobs.resume(jobId);
        const verb = values['dry-run'] ? 'would send' : 'sent';
        if (values.json)
          io.out(JSON.stringify({ jobId, resumed: !values['dry-run'], rerun: 'its messages' }));
        else
          io.out(
            `${verb} the messages of ${jobId} again (${status.state}, at step "${status.currentStep?.name ?? 'none'}"): attempts in flight finish first, nothing done runs again`,
          );
        return 0;
      }
      const step = status.steps.find((s) => s.name === status.currentStep?.name);
      const failedTasks = (step?.tasks ?? [])
        .filter((t) => t.state === 'failed')
        .map((t) => t.name);
      const what =
        failedTasks.length > 0
          ? `tasks ${failedTasks.join(', ')} of step "${step?.name}"`
          : `step "${step?.name}"`;
      if (!values['dry-run']) await jobs.resume(jobId);
      const verb = values['dry-run'] ? 'would resume' : 'resumed';
      if (values.json) io.out(JSON.stringify({ jobId, resumed: !values['dry-run'], rerun: what }));
      else io.out(`${verb} ${jobId}: re-runs ${what} (stalled: ${status.reason ?? 'no reason'})`);
      return 0;
    }
    default:
      throw new UsageError(`jobs needs list, show or resume; got ${action ?? 'nothing'}`);
  }
}
