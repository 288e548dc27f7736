import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob, startJob } from '../../../lib/jobs/index.js';
import { EventBox } from '../../../lib/producer/event-box.js';
import { clientConfig } from '../../helpers/aws.js';
import { cli } from '../../helpers/cli.js';
import { Network } from '../../helpers/job-network.js';
import { createJobsTable } from '../../helpers/table.js';

const run = promisify(execFile);

/** `npx eventbox jobs` against a jobs table on the emulator. */
describe('CLI: eventbox jobs', () => {
  const config = clientConfig();
  const client = new DynamoDBClient(config);
  let tableName: string;
  let drop: () => Promise<void>;
  let healthy = false;
  const job = defineJob('gated', { input: z.object({}), maxAttempts: 1 })
    .step('open', () => 'open')
    .parallel('fan', {
      tasks: {
        left: () => 'left',
        right: () => {
          if (!healthy) throw new Error('right side down');
          return 'right';
        },
      },
      aggregate: ({ tasks }) =>
        tasks.right.state === 'succeeded' ? { continue: 'both' } : { retry: ['right'] },
      maxTaskAttempts: 1,
      maxRounds: 1,
    });

  beforeAll(async () => {
    ({ tableName, drop } = await createJobsTable(client));
    const box = new EventBox({ tableName, source: 'cli', client });
    for (const id of ['cli-1', 'cli-2']) {
      const tx = box.transaction();
      await startJob(tx, job, {}, { jobId: id, tableName });
      await tx.commit();
    }
    await new Network(config, { jobs: [job], tableName }, { random: Math.random }).run();
  });

  afterAll(async () => {
    await drop();
  });

  it('lists stalled jobs as JSON and as a table', async () => {
    const json = await cli('jobs', 'list', '--table', tableName, '--state', 'stalled', '--json');
    const text = await cli('jobs', 'list', '--table', tableName, '--state', 'stalled');

    expect(json.code).toBe(0);
    expect(
      (JSON.parse(json.out) as { jobs: Array<{ jobId: string; state: string }> }).jobs
        .map((j) => [j.jobId, j.state])
        .sort(),
    ).toStrictEqual([
      ['cli-1', 'stalled'],
      ['cli-2', 'stalled'],
    ]);
    expect(text.out.split('\n')[0]).toMatch(/^JOB\s+NAME\s+STATE\s+CREATED$/);
    expect(text.out).toContain('2 job(s)');
  });

  it('shows a job with every step and task, attempts and last error', async () => {
    const { code, out } = await cli('jobs', 'show', 'cli-1', '--table', tableName);

    expect(code).toBe(0);
    expect(out).toMatch(/state\s+stalled/);
    expect(out).toMatch(/reason\s+step "fan": tasks right still failing after 1 rounds/);
    expect(out).toMatch(/\n {3}right\s+failed\s+1\s+Error: right side down/);
    expect(out).toMatch(/\n {3}left\s+succeeded\s+1/);
  });

  it('resumes only what is not done; a dry run changes nothing', async () => {
    const dry = await cli('jobs', 'resume', 'cli-2', '--table', tableName, '--dry-run');
    const still = await cli('jobs', 'show', 'cli-2', '--table', tableName, '--json');
    healthy = true;
    const resumed = await cli('jobs', 'resume', 'cli-2', '--table', tableName);
    await new Network(config, { jobs: [job], tableName }, { random: Math.random }).run();
    const done = JSON.parse(
      (await cli('jobs', 'show', 'cli-2', '--table', tableName, '--json')).out,
    );

    expect(dry.out).toBe(
      'would resume cli-2: re-runs tasks right of step "fan" (stalled: step "fan": tasks right still failing after 1 rounds)',
    );
    expect(JSON.parse(still.out).state).toBe('stalled');
    expect(resumed.out).toMatch(/^resumed cli-2: re-runs tasks right of step "fan"/);
    expect(done).toMatchObject({
      state: 'succeeded',
      steps: [
        {},
        {
          tasks: [
            { name: 'left', attempts: 1 },
            { name: 'right', round: 2 },
          ],
        },
      ],
    });
  });

  it('reads well in a terminal: run under a pseudo-terminal, the table is aligned and plain', async () => {
    // Prepare: Python's pty gives the command a terminal, as a user's shell would.
    const bin = fileURLToPath(new URL('../../../lib/cli/bin.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

    // Act
    const { stdout } = await run(
      'python3',
      [
        '-c',
        'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)',
        tsx,
        bin,
        'jobs',
        'show',
        'cli-1',
        '--table',
        tableName,
      ],
      {
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        timeout: 60_000,
      },
    );

    // Assess
    const lines = stdout.replaceAll('\r', '').split('\n');
    const header = lines.findIndex((l) => l.startsWith('STEP / TASK'));
    expect(header).toBeGreaterThan(0);
    expect(lines[header + 1]).toMatch(/^-+ {2}-+ {2}-+ {2}-+$/);
    const column = (lines[header] ?? '').indexOf('STATE');
    for (const row of lines.slice(header + 2).filter((l) => l.trim() !== ''))
      expect(row.slice(column).split(' ')[0]).toMatch(
        /^(succeeded|failed|stalled|pending|running)$/,
      );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no escape sequences in plain output
    expect(stdout).not.toMatch(/\u001b\[/);
  });

  it.each([
    [['jobs', 'show', 'nope'], 1, 'Job nope does not exist'],
    [['jobs', 'resume', 'cli-1', '--dry-run'], 0, 'would resume cli-1'],
    [['jobs', 'list', '--state', 'sleeping'], 2, '--state must be one of pending, running'],
    [['jobs', 'list', '--since', 'yesterday'], 2, '--since must be a date and time'],
    [['jobs', 'frobnicate'], 2, 'jobs needs list, show or resume; got frobnicate'],
  ])('answers %j in one line, exit %i', async (argv, exit, text) => {
    const { code, out, err } = await cli(...argv, '--table', tableName);

    expect(code).toBe(exit);
    expect(`${out}${err}`).toContain(text);
  });
});
