import { createJobRunner, jobRunnerOptionsFromEnvironment } from '../../../lib/jobs/index.js';
import { fulfilOrder } from './job.js';

/** The job runner of the example app, configured by the JobRunner construct. */
export const handler = createJobRunner({
  ...jobRunnerOptionsFromEnvironment(),
  jobs: [fulfilOrder],
  source: 'fulfilment',
});
