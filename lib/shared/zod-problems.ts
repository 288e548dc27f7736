import type { $ZodError } from 'zod/v4/core';

/** Turns zod issues into one readable line each: `path: message`. */
export function describeIssues(error: $ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}
