import { z } from 'zod';

/**
 * Faults the example app's fault-injecting entry points apply, read from the environment
 * variable EVENTBOX_FAULTS (JSON) on every invocation, so a test switches them on and off
 * with UpdateFunctionConfiguration. Rates are probabilities from 0 to 1.
 */
export const faultConfigSchema = z.strictObject({
  putEvents: z
    .strictObject({
      /** A whole PutEvents call fails with ThrottlingException. */
      throttle: z.number().min(0).max(1).default(0),
      /** An entry fails with a retryable code (InternalFailure or ThrottlingException). */
      retryable: z.number().min(0).max(1).default(0),
      /** An entry is rejected for good (InvalidArgument). */
      nonRetryable: z.number().min(0).max(1).default(0),
    })
    .default({ throttle: 0, retryable: 0, nonRetryable: 0 }),
  consumer: z
    .strictObject({
      /** An invocation dies just before one of its transactions is sent. */
      crashBeforeCommit: z.number().min(0).max(1).default(0),
      /** An invocation dies just after one of its transactions committed, before acknowledging. */
      crashAfterCommit: z.number().min(0).max(1).default(0),
      /**
       * A bug: the handler throws for every user snapshot in this region, until it is
       * switched off (the fix), so those events and the payments waiting for them are
       * dead-lettered, for a redrive to bring home.
       */
      poisonRegion: z.optional(z.string()),
    })
    .default({ crashBeforeCommit: 0, crashAfterCommit: 0 }),
  jobs: z
    .strictObject({
      /** A step or task of the example's job throws. */
      failure: z.number().min(0).max(1).default(0),
    })
    .default({ failure: 0 }),
});
export type FaultConfig = z.infer<typeof faultConfigSchema>;

export const FAULTS_VARIABLE = 'EVENTBOX_FAULTS';

/** Partition key prefix of the records a crashed consumer leaves of what it had committed. */
export const CRASH_RECORD_PREFIX = 'FAULT#crash-after-commit#';

/** The faults in force now; none when the variable is unset or empty. */
export function currentFaults(env: NodeJS.ProcessEnv = process.env): FaultConfig {
  const raw = env[FAULTS_VARIABLE];
  return faultConfigSchema.parse(raw ? JSON.parse(raw) : {});
}
