import type { z } from 'zod';
import { InvalidOptionsError } from './errors.js';
import { describeIssues } from './zod-problems.js';

/** Checks options once, at construction, and rejects unknown keys. */
export function validateOptions<T>(schema: z.ZodType, options: T, what: string): T {
  const result = schema.safeParse(options);
  if (!result.success) throw new InvalidOptionsError(what, describeIssues(result.error));
  return options;
}
