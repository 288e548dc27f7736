import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * What each resource is to Eventbox, written into the template as resource metadata
 * (`eventbox`), so `npx eventbox --stack <name>` finds a deployment's tables, queues and
 * functions from the stack alone.
 */
export const ResourceRole = {
  boxTable: 'box-table',
  eventBus: 'event-bus',
  relayFunction: 'relay-function',
  relayDeadLetterQueue: 'relay-dead-letter-queue',
  consumerTable: 'consumer-table',
  consumerQueue: 'consumer-queue',
  consumerDeadLetterQueue: 'consumer-dead-letter-queue',
  consumerFunction: 'consumer-function',
  jobsTable: 'jobs-table',
  archive: 'archive',
} as const;
export type ResourceRole = (typeof ResourceRole)[keyof typeof ResourceRole];

/** Marks a construct's CloudFormation resource with its role (and the consumer or runner it belongs to). */
export function markRole(
  construct: IConstruct,
  role: ResourceRole,
  extra: Readonly<Record<string, string>> = {},
): void {
  const resource = construct.node.defaultChild ?? construct;
  if (resource instanceof CfnResource) resource.addMetadata('eventbox', { role, ...extra });
}
