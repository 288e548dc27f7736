import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { ResourceRole } from '../../lib/shared/resource-roles.js';

export { ResourceRole } from '../../lib/shared/resource-roles.js';

/** Marks a construct's CloudFormation resource with its role (and the consumer or runner it belongs to). */
export function markRole(
  construct: IConstruct,
  role: ResourceRole,
  extra: Readonly<Record<string, string>> = {},
): void {
  const resource = construct.node.defaultChild ?? construct;
  if (resource instanceof CfnResource) resource.addMetadata('eventbox', { role, ...extra });
}
