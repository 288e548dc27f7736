import type { StandardSchemaV1 } from '@standard-schema/spec';

/** Standard Schema issues as one readable line each: `payload.items.0.sku: Required`. */
export function describeIssues(
  issues: ReadonlyArray<StandardSchemaV1.Issue>,
  root = 'input',
): string[] {
  return issues.map((issue) => {
    const path = (issue.path ?? [])
      .map((segment) =>
        typeof segment === 'object' && segment !== null ? String(segment.key) : String(segment),
      )
      .join('.');
    return `${root}${path ? `.${path}` : ''}: ${issue.message}`;
  });
}
