import type { z } from 'zod';
import { InvalidOptionsError } from './errors.js';
import { describeIssues } from './zod-problems.js';

/** Checks options once, at construction, and rejects unknown keys. */
export function validateOptions<T>(schema: z.ZodType, options: T, what: string): T {
  const result = schema.safeParse(options);
  if (!result.success) throw new InvalidOptionsError(what, describeIssues(result.error));
  return options;
}

/**
 * A refinement for two options that exclude each other (a client and its config, say),
 * to spread into `.refine(...)`.
 */
export function notBoth<K extends string>(a: K, b: K) {
  return [
    (options: Partial<Record<K, unknown>>) => options[a] === undefined || options[b] === undefined,
    { message: `give either ${a} or ${b}, not both` },
  ] as const;
}
