import { config } from 'zod/mini';
import type { $ZodError } from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';

// zod's mini build has no messages of its own: its default would say "Invalid input" where
// the full build names the unknown key. Every zod message Eventbox shows comes through
// here, so the English locale is set here, once, for every schema whichever build it uses.
config(en());

/** Turns zod issues into one readable line each: `path: message`. */
export function describeIssues(error: $ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}
