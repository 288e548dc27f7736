import { currentFaults } from './config.js';

/**
 * Fails a step or task at the rate EVENTBOX_FAULTS sets for jobs (the soak's "tasks
 * failing"); does nothing unless the variable is set, as in every deployment but the soak.
 */
export function injectedFailure(what: string): void {
  if (!process.env.EVENTBOX_FAULTS) return;
  if (Math.random() < currentFaults().jobs.failure)
    throw new Error(`${what} unavailable (injected)`);
}
