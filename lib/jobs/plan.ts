import type { JobDefinition } from './definition.js';
import type { PlannedStep } from './records.js';

/** What a plan is read from: a definition's name and steps. */
// biome-ignore lint/suspicious/noExplicitAny: definitions of any input and results
type AnyJob = Pick<JobDefinition<any, any>, 'name' | 'steps'>;

/** The plan a job stores when it starts: each step's name and kind, a parallel step's tasks. */
export function planOf(definition: AnyJob): PlannedStep[] {
  return definition.steps.map((step) =>
    step.kind === 'parallel'
      ? { name: step.name, kind: step.kind, tasks: Object.keys(step.tasks) }
      : { name: step.name, kind: step.kind },
  );
}

const text = (plan: readonly PlannedStep[]) =>
  `[${plan.map((s) => (s.tasks ? `${s.name}(${s.tasks.join(', ')})` : s.name)).join(', ')}]`;

/**
 * Why a definition cannot run a job that started with `plan`, or undefined when it can: a
 * job runs the steps it started with, in that order, with those tasks. A deploy may change
 * what steps, tasks and aggregators do, their retries and backoff, never which there are;
 * running a job by position in a changed list would re-run a step's writes or skip one.
 */
export function planMismatch(
  plan: readonly PlannedStep[] | undefined,
  definition: AnyJob,
): string | undefined {
  if (plan === undefined) return undefined;
  const now = planOf(definition);
  const same =
    plan.length === now.length &&
    plan.every((step, i) => {
      const other = now[i];
      return (
        other !== undefined &&
        step.name === other.name &&
        step.kind === other.kind &&
        (step.tasks ?? []).join('\u0000') === (other.tasks ?? []).join('\u0000')
      );
    });
  if (same) return undefined;
  return `the definition of job "${definition.name}" no longer has the steps the job started with: it started with ${text(plan)}, this runner has ${text(now)}; deploy a runner whose "${definition.name}" keeps those steps (changed steps belong under a new job name) and resume the job`;
}
