import { createJobRunner, jobRunnerOptionsFromEnvironment } from '../../lib/jobs/index.js';
import { fulfilmentJob } from '../example/fulfilment/job.js';
import { currentFaults } from './config.js';
import { crashingClient } from './crash.js';
import { injectedFailure } from './job-failures.js';

/**
 * The example's job runner when deployed for fault tests: invocations die just before or
 * just after one of their checkpoints (the consumer crash rates of EVENTBOX_FAULTS), and
 * steps and tasks fail at the jobs' rate.
 */
const options = jobRunnerOptionsFromEnvironment();
const crashes = crashingClient(options.tableName, () => undefined);

const runner = createJobRunner({
  ...options,
  client: crashes.client,
  jobs: [fulfilmentJob({ before: injectedFailure })],
  source: 'fulfilment',
});

export async function handler(...args: Parameters<typeof runner>) {
  crashes.arm(currentFaults().consumer);
  try {
    // The context too: its deadline is the lease of the attempts this invocation starts.
    return await runner(...args);
  } finally {
    crashes.disarm();
  }
}
