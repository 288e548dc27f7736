import { safeParse } from 'zod/mini';
import type { $ZodType } from 'zod/v4/core';
import { InvalidOptionsError } from './errors.js';
import { describeIssues } from './zod-problems.js';

/** Checks options once, at construction, and rejects unknown keys. */
export function validateOptions<T>(schema: $ZodType, options: T, what: string): T {
  const result = safeParse(schema, options);
  if (!result.success) throw new InvalidOptionsError(what, describeIssues(result.error));
  return options;
}

/**
 * A refinement for two options that exclude each other (a client and its config, say),
 * to spread into zod/mini's `z.refine(...)`.
 */
export function notBoth<K extends string>(a: K, b: K) {
  return [
    (options: Partial<Record<K, unknown>>) => options[a] === undefined || options[b] === undefined,
    { message: `give either ${a} or ${b}, not both` },
  ] as const;
}
