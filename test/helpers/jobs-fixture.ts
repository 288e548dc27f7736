import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { z } from 'zod';
import { type defineJob, JobClient, startJob } from '../../lib/jobs/index.js';
import { EventBox } from '../../lib/producer/event-box.js';
import { clientConfig } from './aws.js';
import { Network, type NetworkOptions } from './job-network.js';
import { createJobsTable } from './table.js';

/** Jobs of input `{ id }`, three attempts, no backoff: what the fault tests start. */
export const quickJob = {
  input: z.object({ id: z.string() }),
  maxAttempts: 3,
  backoff: { baseSeconds: 0, capSeconds: 0 },
};

/**
 * A jobs table on one DynamoDB engine for a describe block (created before, dropped
 * after), with a producer, a JobClient, and helpers to start a job and deliver it.
 * Its fields are set once the table exists: read them inside tests.
 */
export function jobsFixture(endpoint: string) {
  const config = clientConfig(endpoint);
  const client = new DynamoDBClient(config);
  let drop: () => Promise<void> = async () => {};
  let n = 0;
  const fixture = {
    config,
    client,
    tableName: '',
    box: undefined as unknown as EventBox,
    jobs: undefined as unknown as JobClient,
    /** Starts a job of input `{ id: jobId }` in a committed transaction; its id. */
    async start(job: Parameters<typeof startJob>[1]): Promise<string> {
      const jobId = `j${n++}-${Date.now()}`;
      const tx = fixture.box.transaction();
      await startJob(tx, job, { id: jobId }, { jobId, tableName: fixture.tableName });
      await tx.commit();
      return jobId;
    },
    /** A network that delivers this job's messages (Math.random unless told). */
    network(job: ReturnType<typeof defineJob>, options: Partial<NetworkOptions> = {}): Network {
      return new Network(
        config,
        { jobs: [job], tableName: fixture.tableName },
        { random: Math.random, ...options },
      );
    },
  };
  beforeAll(async () => {
    let tableName: string;
    ({ tableName, drop } = await createJobsTable(client));
    fixture.tableName = tableName;
    fixture.box = new EventBox({ tableName, source: 'shop', client });
    fixture.jobs = new JobClient({ tableName, client });
  });
  afterAll(async () => {
    await drop();
  });
  return fixture;
}
