import {
  LambdaClient,
  paginateListEventSourceMappings,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { describe, expect, inject, it } from 'vitest';
import { deployExample } from '../../infra/demo/deploy.js';
import { runDemo } from '../../infra/demo/run.js';
import { clientConfig } from '../helpers/aws.js';
import { cli } from '../helpers/cli.js';

/**
 * The example app deployed with the CDK CLI to the emulator, which runs the real Lambda
 * handlers: a chain of three services. Events the orders service writes are applied by
 * user-score, whose score changes are applied by rewards, each exactly once.
 */
describe('Example app, deployed with the CDK CLI', () => {
  it('carries every event through the chain orders → user-score → rewards, each applied exactly once', async () => {
    // Prepare
    const target = inject('eventbox');
    const outputs = await deployExample({ target, stackName: 'EventboxE2E' });

    // Act
    const started = new Date();
    const summary = await runDemo({ target, outputs, operations: 60, seed: 11 });

    // Assess
    expect(summary.eventsWritten).toBeGreaterThan(0);
    for (const hop of summary.hops) {
      expect(hop.expected, hop.name).toBeGreaterThan(0);
      expect(hop, hop.name).toMatchObject({
        published: hop.expected,
        applied: hop.expected,
        publishedWithoutCommit: 0,
        deadLettered: 0,
        lost: 0,
        appliedTwice: 0,
      });
    }
    // Every application is seen in its inbox record; the logs are a second witness with gaps.
    // The emulator collects a worker's log lines for at most 250 ms after its response, and the
    // rest wait for that worker's next invocation: on a busy machine the lines of the last few
    // invocations of a run can be missing (1 or 2 of about 50 in CI). The soak allows 5 % too.
    for (const hop of summary.hops) {
      expect(hop.logLinesLost, hop.name).toBeLessThanOrEqual(Math.ceil(0.05 * hop.applied));
    }
    expect(summary).toMatchObject({
      versionGaps: 0,
      scoresMatchInOrderReplay: true,
      rewardsMatchInOrderReplay: true,
    });
    expect(summary.rewardsGranted).toBeGreaterThan(0);
    // Every payment started its fulfilment job, and every job ran to the end, once.
    expect(summary.jobs.started).toBeGreaterThan(0);
    expect(summary.jobs).toMatchObject({
      succeeded: summary.jobs.started,
      lost: 0,
      unfinished: 0,
      effectsAppliedTwice: 0,
      externalEffects: { charges: summary.jobs.started },
    });
    // The command line finds the jobs table from the stack alone.
    const listed = await cli(
      'jobs',
      'list',
      '--stack',
      'EventboxE2E',
      '--state',
      'succeeded',
      '--json',
    );
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.out) as { jobs: unknown[] }).jobs.length).toBeGreaterThanOrEqual(
      summary.jobs.started,
    );
    expect(summary.chainWriteToAppliedMs.samples).toBe(summary.hops[1]?.applied);
    // An outbox replay finds every table the relay reads from the stack alone: the box's,
    // the user-score consumer's (it publishes) and the job runner's, each with its index.
    const replay = await cli(
      'outbox',
      'replay',
      '--stack',
      'EventboxE2E',
      '--since',
      started.toISOString(),
      '--until',
      new Date().toISOString(),
      '--dry-run',
      '--json',
    );
    expect(replay.code, replay.err).toBe(0);
    const replayed = JSON.parse(replay.out) as {
      tables: Array<{ tableName: string; found: number }>;
      refused: unknown[];
    };
    expect(replayed.refused).toStrictEqual([]);
    const found = new Map(replayed.tables.map((t) => [t.tableName, t.found]));
    expect([...found.keys()].sort()).toStrictEqual(
      [outputs.OrdersTableName, outputs.UserScoreTableName, outputs.JobsTableName].sort(),
    );
    expect(found.get(outputs.OrdersTableName)).toBeGreaterThanOrEqual(summary.eventsWritten);
    expect(found.get(outputs.UserScoreTableName)).toBeGreaterThanOrEqual(
      summary.hops[1]?.expected ?? 1,
    );

    // status reads from the resources whether the relay keeps up, where CloudWatch has no
    // figures: relaying now, stopped once the orders table's stream mapping is disabled.
    const tableStates = async () => {
      const status = await cli('status', '--stack', 'EventboxE2E', '--json');
      const parsed = JSON.parse(status.out) as {
        relays: Array<{ tables: Array<{ tableName: string; state: string }> }>;
        problems: string[];
      };
      const states = new Map(
        parsed.relays.flatMap((r) => r.tables.map((t) => [t.tableName, t.state])),
      );
      return { code: status.code, states, problems: parsed.problems };
    };
    const healthy = await tableStates();
    expect(healthy.problems).toStrictEqual([]);
    expect(healthy.states.get(outputs.OrdersTableName)).toBe('relaying');
    const lambda = new LambdaClient(clientConfig());
    let ordersMapping: string | undefined;
    for await (const page of paginateListEventSourceMappings(
      { client: lambda },
      { FunctionName: outputs.RelayFunctionName },
    ))
      ordersMapping ??= page.EventSourceMappings?.find((m) =>
        m.EventSourceArn?.includes(`:table/${outputs.OrdersTableName}/`),
      )?.UUID;
    const enabled = (Enabled: boolean) =>
      lambda.send(new UpdateEventSourceMappingCommand({ UUID: ordersMapping, Enabled }));
    await enabled(false);
    const stopped = await tableStates().finally(() => enabled(true));
    expect(stopped.code).toBe(1);
    expect(stopped.states.get(outputs.OrdersTableName)).toBe('stopped');
    expect(stopped.problems).toStrictEqual([
      expect.stringMatching(
        new RegExp(
          `^relay \\S+ for table ${outputs.OrdersTableName} is stopped: its stream mapping is Disabled`,
        ),
      ),
    ]);
  }, 600_000);
});
