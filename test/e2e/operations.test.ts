import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetDurableExecutionCommand,
  InvokeCommand,
  LambdaClient,
  ListDurableExecutionsByFunctionCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { OrdersCommand } from '../../functions/example/orders/service.js';
import { deployExample, type ExampleOutputs } from '../../infra/demo/deploy.js';
import { setFaults } from '../../infra/demo/faults.js';
import { invoke } from '../../infra/demo/workload.js';
import { EXECUTION_START } from '../../lib/jobs/executions.js';
import { eventBridgeEventOf } from '../../lib/testing/builders.js';
import { drainQueue, queueDepth } from '../../lib/testing/queues.js';
import { readDeadLetters, readInbox, scanPrefix } from '../../lib/testing/state.js';
import { cli } from '../helpers/cli.js';

const STACK = 'EventboxOps';

/**
 * Operations on the deployed example: dead letters whose cause is fixed are redriven and
 * applied once; an outbox whose stream records were lost is replayed from the table.
 */
describe('Operations, on the example deployed with the CDK CLI', () => {
  const target = inject('eventbox');
  const lambda = new LambdaClient({ ...target.clientConfig, maxAttempts: 1 });
  const ddb = new DynamoDBClient(target.clientConfig);
  const sqs = new SQSClient(target.clientConfig);
  let outputs: ExampleOutputs;
  const run = (...commands: OrdersCommand[]) =>
    invoke(lambda, outputs.OrdersFunctionName, commands);
  const applied = () => readInbox(ddb, outputs.UserScoreTableName, 'user-score');
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await sleep(500);
    }
  };
  const letters = (queue: string) => readDeadLetters(sqs, queue);

  beforeAll(async () => {
    // Fault-injecting relay and consumer (switched off until a test wants them), and a
    // small "not yet" budget so that a missing predecessor dead-letters quickly.
    outputs = await deployExample({ target, stackName: STACK, faults: true, notYetMaxAttempts: 2 });
  }, 600_000);

  it('redrives a relay dead letter and then the consumer dead letter that waited for it, each applied once', async () => {
    // Prepare: EventBridge rejects every entry, so the user's creation is dead-lettered by the relay.
    await setFaults(lambda, [outputs.RelayFunctionName], {
      putEvents: { throttle: 0, retryable: 0, nonRetryable: 1 },
      consumer: { crashBeforeCommit: 0, crashAfterCommit: 0 },
      jobs: { failure: 0 },
    });
    const [created] = await run({
      command: 'createUser',
      userId: 'ops-u1',
      name: 'Ann',
      region: 'eu',
    });
    await until(
      'the relay dead-letters the creation',
      async () => (await letters(outputs.RelayDeadLetterQueueUrl)).length === 1,
    );
    await setFaults(lambda, [outputs.RelayFunctionName], undefined);
    // The payment arrives; its user's region never did: "not yet", then dead-lettered with that reason.
    await run({ command: 'placeOrder', orderId: 'ops-o1', userId: 'ops-u1', amount: 30 });
    const [paid] = await run({ command: 'payOrder', orderId: 'ops-o1' });
    await until(
      'user-score dead-letters the payment',
      async () => (await letters(outputs.UserScoreDeadLetterQueueUrl)).length === 1,
    );
    const listed = await cli('dlq', 'list', '--stack', STACK, '--json');

    // Act: the cause fixed, send them on, the relay's first
    const relay = await cli('dlq', 'redrive', '--stack', STACK, '--queue', 'relay');
    await until('user-score applies the creation', async () =>
      (await applied()).has(created?.events?.[0]?.id ?? ''),
    );
    const consumer = await cli(
      'dlq',
      'redrive',
      '--stack',
      STACK,
      '--queue',
      'user-score',
      '--json',
    );
    await until('user-score applies the payment', async () =>
      (await applied()).has(paid?.events?.[0]?.id ?? ''),
    );
    const again = await cli('dlq', 'redrive', '--stack', STACK, '--json');

    // Assess
    expect(listed.code).toBe(0);
    expect(
      (
        JSON.parse(listed.out) as {
          groups: Array<{ source: string; type: string; reason: string }>;
        }
      ).groups,
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          source: 'relay',
          type: 'UserCreated',
          reason: expect.stringContaining('EventBridge rejected the entry: InvalidArgument'),
        }),
        expect.objectContaining({
          source: 'user-score',
          type: 'OrderPaid',
          reason: expect.stringMatching(
            /^Not yet: user ops-uN in region version N is not known yet/,
          ),
        }),
      ]),
    );
    expect(relay).toMatchObject({
      code: 0,
      out: 'redrove 1 letter(s): 1 event(s) to the bus, 0 message(s) to their consumers',
    });
    expect(JSON.parse(consumer.out).redriven).toHaveLength(1);
    expect(JSON.parse(again.out)).toStrictEqual({
      redriven: [],
      failed: [],
      notDeleted: [],
      setAside: [],
      gaveUp: 0,
      hidden: 0,
    });
    expect(await letters(outputs.RelayDeadLetterQueueUrl)).toStrictEqual([]);
    expect(await letters(outputs.UserScoreDeadLetterQueueUrl)).toStrictEqual([]);
    const regions = await scanPrefix(ddb, outputs.UserScoreTableName, 'USER#ops-u1');
    expect(regions.find((r) => String(r.sk).startsWith('REGION#'))).toMatchObject({
      score: 30,
      version: 2,
    });
  }, 300_000);

  it('replays from the table what a relay stopped too long never published; what was applied is absorbed', async () => {
    // Prepare: the relay stops reading the orders table, and the records it misses are lost
    const { EventSourceMappings = [] } = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: outputs.RelayFunctionName }),
    );
    const orders = EventSourceMappings.find((m) =>
      m.EventSourceArn?.includes(`table/${outputs.OrdersTableName}/`),
    );
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: orders?.UUID, Enabled: false }));
    const since = new Date(Date.now() - 60_000);
    const before = await applied();
    const missed = [
      ...(await run({ command: 'createUser', userId: 'ops-u2', name: 'Bo', region: 'us' })),
      ...(await run({ command: 'renameUser', userId: 'ops-u2', name: 'Bob' })),
    ].flatMap((r) => r.events ?? []);
    await sleep(3_000);
    const unrelayed = await applied();

    // Act
    const dry = await cli(
      'outbox',
      'replay',
      '--stack',
      STACK,
      '--since',
      since.toISOString(),
      '--until',
      new Date().toISOString(),
      '--dry-run',
      '--json',
    );
    const replay = await cli(
      'outbox',
      'replay',
      '--stack',
      STACK,
      '--since',
      since.toISOString(),
      '--until',
      new Date().toISOString(),
      '--json',
    );
    await until('user-score applies what was missed', async () => {
      const now = await applied();
      return missed.every((e) => now.has(e.id));
    });
    await until(
      'the queue is quiet',
      async () => (await queueDepth(sqs, outputs.UserScoreQueueUrl)) === 0,
    );

    // Assess
    expect(missed.every((e) => !unrelayed.has(e.id))).toBe(true);
    expect(JSON.parse(dry.out)).toMatchObject({ dryRun: true, published: 0 });
    const result = JSON.parse(replay.out) as { found: number; published: number; failed: number };
    expect(result.published).toBe(result.found);
    expect(result.found).toBeGreaterThan(missed.length);
    const after = await applied();
    expect(after.size).toBe(before.size + missed.length);
    expect(await letters(outputs.UserScoreDeadLetterQueueUrl)).toStrictEqual([]);
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: orders?.UUID, Enabled: true }));
  }, 300_000);

  it('refuses to redrive a queue holding a message that is not a dead letter, and keeps it', async () => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: outputs.UserScoreDeadLetterQueueUrl,
        MessageBody: 'not a letter',
      }),
    );

    const refused = await cli('dlq', 'redrive', '--stack', STACK, '--queue', 'user-score');
    const kept = await letters(outputs.UserScoreDeadLetterQueueUrl);
    await drainQueue(sqs, outputs.UserScoreDeadLetterQueueUrl);

    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/1 message\(s\) are not Eventbox dead letters .* nothing redriven/);
    expect(kept.map((l) => l.kind)).toStrictEqual(['unknown']);
  });

  it.each([
    [['dlq', 'list', '--queue', 'nope'], 1, 'no dead-letter queue "nope"; the stack has relay'],
    [['outbox', 'replay', '--since', '1h', '--until', '2h'], 2, 'must be before --until'],
    [
      ['outbox', 'replay', '--since', '1h', '--until', '2099-01-01T00:00:00Z'],
      2,
      'is in the future',
    ],
    [
      ['outbox', 'replay', '--since', '40d', '--until', '1h'],
      1,
      "further back than the consumers' inbox remembers",
    ],
    [['dlq', 'shuffle'], 2, 'dlq needs list, show or redrive'],
  ])('refuses %j in one line, changing nothing', async (argv, exit, reason) => {
    const { code, err } = await cli(...argv, '--stack', STACK);

    expect(code).toBe(exit);
    expect(err.split('\n')[0]).toContain(reason);
  });

  describe('Executions started with a transaction', () => {
    const sfn = new SFNClient(target.clientConfig);
    const startsIn = (results: Awaited<ReturnType<typeof run>>) =>
      results.flatMap((r) => r.events ?? []).filter((e) => e.type === EXECUTION_START);
    /** Each start `times(start)` more times, all shuffled together. */
    const deliverAgain = async (
      starts: ReturnType<typeof startsIn>,
      times: (start: ReturnType<typeof startsIn>[number]) => number,
    ) => {
      const copies = starts.flatMap((start) => Array.from({ length: times(start) }, () => start));
      for (let i = copies.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [copies[i], copies[j]] = [
          copies[j] as (typeof copies)[number],
          copies[i] as (typeof copies)[number],
        ];
      }
      await Promise.all(
        copies.map((start) =>
          sqs.send(
            new SendMessageCommand({
              QueueUrl: outputs.DispatcherQueueUrl,
              MessageBody: JSON.stringify(eventBridgeEventOf(start)),
            }),
          ),
        ),
      );
    };

    it('starts each fraud check once by name, through a dispatcher crash between start and record and duplicate deliveries', async () => {
      // Prepare: every dispatcher invocation dies after starting, before recording
      await setFaults(lambda, [outputs.DispatcherFunctionName], {
        putEvents: { throttle: 0, retryable: 0, nonRetryable: 0 },
        consumer: { crashBeforeCommit: 1, crashAfterCommit: 0 },
        jobs: { failure: 0 },
      });
      await run({ command: 'createUser', userId: 'ex-u1', name: 'Cy', region: 'eu' });
      const place = (orderId: string, amount: number) =>
        run({ command: 'placeOrder', orderId, userId: 'ex-u1', amount });
      const ids = ['ex-o1', 'ex-o2', 'ex-o3', 'ex-o4'];
      const names = ids.map((id) => `fraud-${id}`);
      const ours = async () =>
        (
          await sfn.send(
            new ListExecutionsCommand({ stateMachineArn: outputs.FraudCheckStateMachineArn }),
          )
        ).executions?.filter((e) => names.includes(e.name ?? '')) ?? [];
      const recorded = async (name: string) =>
        scanPrefix(ddb, outputs.JobsTableName, `EXECUTION#${name}`);
      const crashed = startsIn(await place('ex-o1', 20));
      await until('the first fraud check started', async () => (await ours()).length === 1);
      const unrecorded = await recorded('fraud-ex-o1');

      // Act: the dispatcher healthy again, the crashed start arrives twice more; the other
      // orders' starts each arrive up to three times
      await setFaults(lambda, [outputs.DispatcherFunctionName], undefined);
      await deliverAgain(crashed, () => 2);
      const others = startsIn(
        await run(
          ...ids.slice(1).map((id, i) => ({
            command: 'placeOrder' as const,
            orderId: id,
            userId: 'ex-u1',
            amount: 40 + i * 20,
          })),
        ),
      );
      // Delivered 1 to 3 times each, in random order.
      await deliverAgain(others, () => Math.floor(Math.random() * 3));
      await until(
        'every fraud check succeeded',
        async () => (await ours()).filter((e) => e.status === 'SUCCEEDED').length === ids.length,
        180_000,
      );
      await until(
        'the dispatcher queue is quiet',
        async () => (await queueDepth(sqs, outputs.DispatcherQueueUrl)) === 0,
        180_000,
      );
      const shown = await cli('jobs', 'show', 'fraud-ex-o4', '--stack', STACK, '--json');

      // Assess
      expect(unrecorded).toStrictEqual([]);
      expect((await ours()).map((e) => e.name).sort()).toStrictEqual(names);
      expect(await recorded('fraud-ex-o1')).toStrictEqual([
        expect.objectContaining({ outcome: 'existing', eventId: crashed[0]?.id }),
      ]);
      for (const name of names.slice(1)) expect(await recorded(name)).toHaveLength(1);
      expect(shown.code).toBe(0);
      expect(JSON.parse(shown.out)).toMatchObject({
        jobId: 'fraud-ex-o4',
        state: 'succeeded',
        execution: { engine: 'step-functions', status: 'SUCCEEDED' },
      });
      expect(await letters(outputs.DispatcherDeadLetterQueueUrl)).toStrictEqual([]);
    }, 300_000);

    it("starts a paid order's refund once when it is cancelled, however often the start arrives", async () => {
      const since = new Date(Date.now() - 1_000);
      await run(
        { command: 'createUser', userId: 'ex-u2', name: 'Di', region: 'us' },
        { command: 'placeOrder', orderId: 'ex-o9', userId: 'ex-u2', amount: 15 },
        { command: 'payOrder', orderId: 'ex-o9' },
      );
      const cancelled = await run({ command: 'cancelOrder', orderId: 'ex-o9' });
      const starts = startsIn(cancelled);
      const refunds = async () =>
        (
          await lambda.send(
            new ListDurableExecutionsByFunctionCommand({
              FunctionName: outputs.RefundFunctionName,
              StartedAfter: since,
            }),
          )
        ).DurableExecutions ?? [];
      const quiet = () =>
        until(
          'the dispatcher queue is quiet',
          async () => (await queueDepth(sqs, outputs.DispatcherQueueUrl)) === 0,
        );
      await until('the refund started', async () => (await refunds()).length > 0);
      await quiet();
      // Once the start is recorded. Duplicates racing the first start are left to the
      // engine's idempotency by name, which the emulator's durable functions lack.
      await deliverAgain(starts, () => 3);
      await sleep(2_000);
      await quiet();
      const shown = await cli('jobs', 'show', 'refund-ex-o9', '--stack', STACK, '--json');

      expect(starts.map((s) => s.payload)).toStrictEqual([
        expect.objectContaining({ engine: 'durable-function', name: 'refund-ex-o9' }),
      ]);
      expect(await refunds()).toHaveLength(1);
      const refund = JSON.parse(shown.out);
      expect(refund).toMatchObject({
        jobId: 'refund-ex-o9',
        execution: { engine: 'durable-function' },
      });
      // Still running on the emulator, whose asynchronous durable invokes never finish.
      expect(['running', 'succeeded']).toContain(refund.state);
    }, 300_000);

    it('runs the durable refund to SUCCEEDED, each step checkpointed', async () => {
      // The emulator finishes only synchronously invoked durable executions (in the
      // background, after answering PENDING): the route that shows one running to its end.
      const since = new Date(Date.now() - 1_000);
      const invoked = await lambda.send(
        new InvokeCommand({
          FunctionName: outputs.RefundFunctionName,
          Payload: Buffer.from(JSON.stringify({ orderId: 'ex-o10', amount: 12 })),
        }),
      );
      let arn: string | undefined;
      await until('the refund succeeded', async () => {
        const { DurableExecutions = [] } = await lambda.send(
          new ListDurableExecutionsByFunctionCommand({
            FunctionName: outputs.RefundFunctionName,
            StartedAfter: since,
          }),
        );
        const done = DurableExecutions.filter((e) => e.Status === 'SUCCEEDED');
        arn = done.length === 1 ? done[0]?.DurableExecutionArn : undefined;
        return arn !== undefined;
      });
      const execution = await lambda.send(
        new GetDurableExecutionCommand({ DurableExecutionArn: arn }),
      );

      expect(invoked.FunctionError).toBeUndefined();
      expect(execution.Status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.Result ?? 'null')).toStrictEqual({
        refundId: 'rf_ex-o10',
        amount: 12,
      });
    }, 120_000);
  });
});
