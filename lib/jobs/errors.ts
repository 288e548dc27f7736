import { EventBoxError } from '../shared/errors.js';
import type { ActionFailure, ActionSummary } from '../transaction/actions.js';
import { AlreadyExistsError } from '../transaction/errors.js';

/** A job definition is malformed: a bad name, two steps of one name, a range. */
export class InvalidJobDefinitionError extends EventBoxError {
  override name = 'InvalidJobDefinitionError';
}

/** A job's input failed its schema; nothing was added to the transaction. */
export class InvalidJobInputError extends EventBoxError {
  override name = 'InvalidJobInputError';

  constructor(
    readonly jobName: string,
    /** One line per problem, each naming the field. */
    readonly problems: readonly string[],
  ) {
    super(`Invalid input for job "${jobName}": ${problems.join('; ')}`);
  }
}

/** No job has this id in the jobs table. */
export class JobNotFoundError extends EventBoxError {
  override name = 'JobNotFoundError';

  constructor(readonly jobId: string) {
    super(`Job ${jobId} does not exist`);
  }
}

/** A job that succeeded or failed cannot be resumed. */
export class JobNotResumableError extends EventBoxError {
  override name = 'JobNotResumableError';

  constructor(
    readonly jobId: string,
    readonly state: string,
  ) {
    super(`Job ${jobId} ${state}; only a job that has not ended can be resumed`);
  }
}

/** The job changed under every one of a resume's tries (it was moving on meanwhile). */
export class JobResumeConflictError extends EventBoxError {
  override name = 'JobResumeConflictError';

  constructor(
    readonly jobId: string,
    readonly tries: number,
  ) {
    super(
      `Job ${jobId} changed while it was being resumed, ${tries} times in a row; see its status and resume it again`,
    );
  }
}

/** A start of a Step Functions or durable execution the engine would refuse; nothing was added. */

export class InvalidExecutionStartError extends EventBoxError {
  override name = 'InvalidExecutionStartError';

  constructor(readonly problems: readonly string[]) {
    super(`Invalid execution start: ${problems.join('; ')}`);
  }
}

/**
 * A job with this id exists already: the transaction that would start it again was
 * cancelled and wrote nothing. Derive job ids from business keys so that a repeated
 * command finds its job instead of starting a second one.
 */
export class JobAlreadyStartedError extends AlreadyExistsError {
  override name = 'JobAlreadyStartedError';

  constructor(
    readonly jobId: string,
    action: ActionSummary,
    failures: readonly ActionFailure[],
    options?: { cause?: unknown },
  ) {
    super(action, failures, options);
    this.message = `Job ${jobId} was started before; the transaction that would start it again wrote nothing`;
  }
}
