import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { round, summarize } from '../../infra/demo/stats.js';
import type { EmulatorClientConfig } from '../../lib/emulator/start.js';
import { defineJob, type StepContext, startJob } from '../../lib/jobs/index.js';
import { JobRunner } from '../../lib/jobs/runner.js';
import { EventBox } from '../../lib/producer/event-box.js';
import { sqsMessage } from '../helpers/inbox.js';
import { createJobsTable } from '../helpers/table.js';
import { meteredClient } from './metered-client.js';

const STEPS = 20;
const JOBS = 15;

/**
 * Sequential job steps against the same work done three ways, on one DynamoDB engine:
 * - Eventbox: the runner runs every step in one invocation, one transaction per step
 *   (the step's write and the job's checkpoint);
 * - a plain function doing the same writes with no checkpoint (what the steps cost alone);
 * - a naive design: one message and one relay hop per step (each step reads the job, then
 *   commits its write, the checkpoint and the next step's message in one transaction).
 * Calls and capacity are measured; the messaging of the naive design (PutEvents, SQS,
 * Lambda) is counted per step, not simulated.
 */
export async function benchJobSteps(config: EmulatorClientConfig) {
  const { client, meter, reset } = meteredClient(config);
  const document = DynamoDBDocumentClient.from(client);
  const table = await createJobsTable(new DynamoDBClient(config));
  const { tableName } = table;
  try {
    const job = Array.from({ length: STEPS }, (_, i) => i).reduce(
      (definition, i) =>
        definition.step(`s${i}`, ({ ctx }: { ctx: StepContext }) => {
          ctx.tx.put({ pk: `WORK#${ctx.jobId}`, sk: `S${i}`, value: i });
          return i;
        }),
      // biome-ignore lint/suspicious/noExplicitAny: a chain of generated steps
      defineJob('bench', { input: z.object({}) }) as any,
    );
    const runner = new JobRunner({ jobs: [job], tableName, client });
    const box = new EventBox({ tableName, source: 'bench', client });

    const eventbox: number[] = [];
    const plain: number[] = [];
    const naive: number[] = [];
    const usage = { eventbox: { ...meter }, plain: { ...meter }, naive: { ...meter } };
    const take = (key: keyof typeof usage) => {
      usage[key] = {
        calls: Object.fromEntries(
          Object.entries(meter.calls).map(([k, v]) => [k, (usage[key].calls[k] ?? 0) + v]),
        ),
        wcu: usage[key].wcu + meter.wcu,
        rcu: usage[key].rcu + meter.rcu,
      };
      reset();
    };
    usage.eventbox = { calls: {}, wcu: 0, rcu: 0 };
    usage.plain = { calls: {}, wcu: 0, rcu: 0 };
    usage.naive = { calls: {}, wcu: 0, rcu: 0 };

    for (let n = 0; n < JOBS; n++) {
      const jobId = `bench-${n}-${randomUUID().slice(0, 6)}`;
      const tx = box.transaction();
      const { eventId } = await startJob(tx, job, {}, { jobId, tableName });
      await tx.commit();
      const started = JSON.parse(
        String(
          (
            await document.send(
              new GetCommand({
                TableName: tableName,
                Key: { pk: `OUTBOX#Job#${jobId}`, sk: '0000000000000001#000' },
              }),
            )
          ).Item?.detail,
        ),
      );
      if (started.id !== eventId) throw new Error('start event not found');
      reset();
      let t = performance.now();
      const outcome = await runner.process(sqsMessage(started));
      if (outcome.status !== 'handled') throw new Error(`job ended ${outcome.status}`);
      if (n > 0) eventbox.push((performance.now() - t) / STEPS);
      take('eventbox');

      t = performance.now();
      for (let i = 0; i < STEPS; i++)
        await document.send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: `PLAIN#${jobId}`, sk: `S${i}`, value: i },
          }),
        );
      if (n > 0) plain.push((performance.now() - t) / STEPS);
      take('plain');

      const naiveId = `naive-${jobId}`;
      await document.send(
        new PutCommand({
          TableName: tableName,
          Item: { pk: `JOB#${naiveId}`, sk: 'JOB', stepIndex: 0, version: 1, results: {} },
        }),
      );
      reset();
      t = performance.now();
      for (let i = 0; i < STEPS; i++) {
        const { Item } = await document.send(
          new GetCommand({
            TableName: tableName,
            Key: { pk: `JOB#${naiveId}`, sk: 'JOB' },
            ConsistentRead: true,
          }),
        );
        await document.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: tableName,
                  Item: { pk: `WORK#${naiveId}`, sk: `S${i}`, value: i },
                },
              },
              {
                Update: {
                  TableName: tableName,
                  Key: { pk: `JOB#${naiveId}`, sk: 'JOB' },
                  UpdateExpression: 'SET stepIndex = :next, version = :v1',
                  ConditionExpression: 'version = :v',
                  ExpressionAttributeValues: {
                    ':next': i + 1,
                    ':v': Item?.version,
                    ':v1': (Item?.version as number) + 1,
                  },
                },
              },
              {
                Put: {
                  TableName: tableName,
                  Item: {
                    pk: `OUTBOX#naive#${naiveId}`,
                    sk: `S${i}`,
                    _eventbox: 'outbox',
                    detail: '{"step":1}',
                  },
                },
              },
            ],
          }),
        );
      }
      if (n > 0) naive.push((performance.now() - t) / STEPS);
      take('naive');
    }
    const perStep = (u: { calls: Record<string, number>; wcu: number; rcu: number }) => ({
      dynamodbCalls: Object.fromEntries(
        Object.entries(u.calls).map(([k, v]) => [k, round(v / (JOBS * STEPS), 3)]),
      ),
      wcu: round(u.wcu / (JOBS * STEPS), 2),
      rcu: round(u.rcu / (JOBS * STEPS), 2),
    });
    return {
      engine: config.endpoint,
      steps: STEPS,
      jobs: JOBS,
      eventbox: {
        ...perStep(usage.eventbox),
        msPerStep: round(summarize(eventbox).median),
        messagesPerStep: 0,
      },
      plainFunction: { ...perStep(usage.plain), msPerStep: round(summarize(plain).median) },
      naive: {
        ...perStep(usage.naive),
        msPerStep: round(summarize(naive).median),
        // Per step, besides DynamoDB: one PutEvents entry, the rule's SQS send, a receive
        // and a delete, one Lambda invocation, and a relay hop of latency.
        messagesPerStep: { putEventsEntries: 1, sqsRequests: 3, lambdaInvocations: 1 },
      },
      stepsPerSecond: round(1000 / summarize(eventbox).median, 0),
    };
  } finally {
    await table.drop();
  }
}

/**
 * What a million sequential steps cost on AWS at published us-east-1 prices, from the
 * measured capacity per step (on-demand: $0.625 per million write request units, $0.125
 * per million read units), beside Step Functions Standard ($25 per million state
 * transitions) and Lambda durable functions ($8 per million operations).
 */
export function costPerMillionSteps(result: Awaited<ReturnType<typeof benchJobSteps>>) {
  const dynamodb = (u: { wcu: number; rcu: number }) => u.wcu * 0.625 + u.rcu * 0.125;
  const overhead = {
    wcu: result.eventbox.wcu - result.plainFunction.wcu,
    rcu: result.eventbox.rcu - result.plainFunction.rcu,
  };
  const naiveOverhead = {
    wcu: result.naive.wcu - result.plainFunction.wcu,
    rcu: result.naive.rcu - result.plainFunction.rcu,
  };
  // PutEvents $1/M entries, SQS $0.40/M requests × 3, Lambda $0.20/M invocations.
  const naiveMessaging = 1 + 3 * 0.4 + 0.2;
  return {
    eventboxOverheadUsd: round(dynamodb(overhead), 2),
    naiveOverheadUsd: round(dynamodb(naiveOverhead) + naiveMessaging, 2),
    stepFunctionsStandardUsd: 25,
    lambdaDurableFunctionsUsd: 8,
  };
}
