import {
  type CloudFormationClient,
  DescribeStackResourcesCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import { CommandError } from './usage-error.js';

/** One resource of a deployed stack that Eventbox's constructs marked with its role. */
export interface MarkedResource {
  readonly role: string;
  readonly logicalId: string;
  /** Table or function name, queue URL, bus name. */
  readonly physicalId: string;
  /** The consumer or runner it belongs to, if any. */
  readonly consumer?: string;
  readonly runner?: string;
  /** For a relay's function and dead-letter queue: the relay's name. */
  readonly relay?: string;
}

/**
 * The Eventbox resources of a stack: the template's `eventbox` metadata says what each
 * is; the stack's resources give their names and URLs.
 */
export async function markedResources(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<MarkedResource[]> {
  let template: {
    Resources?: Record<string, { Metadata?: { eventbox?: Record<string, string> } }>;
  };
  let physical: Map<string, string>;
  try {
    const { TemplateBody = '{}' } = await cfn.send(
      new GetTemplateCommand({ StackName: stackName }),
    );
    template = JSON.parse(TemplateBody);
    const { StackResources = [] } = await cfn.send(
      new DescribeStackResourcesCommand({ StackName: stackName }),
    );
    physical = new Map(
      StackResources.map((r) => [r.LogicalResourceId ?? '', r.PhysicalResourceId ?? '']),
    );
  } catch (error) {
    throw new CommandError(`stack ${stackName}: ${(error as Error).message}`, { cause: error });
  }
  const marked: MarkedResource[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const meta = resource.Metadata?.eventbox;
    const physicalId = physical.get(logicalId);
    if (!meta?.role || !physicalId) continue;
    marked.push({
      role: meta.role,
      logicalId,
      physicalId,
      ...(meta.consumer ? { consumer: meta.consumer } : {}),
      ...(meta.runner ? { runner: meta.runner } : {}),
      ...(meta.relay ? { relay: meta.relay } : {}),
    });
  }
  if (marked.length === 0)
    throw new CommandError(`stack ${stackName} has no Eventbox resources (no eventbox metadata)`);
  return marked;
}

/**
 * The one resource of a role (optionally of a named consumer or runner), or a one-line
 * error naming the choices.
 */
export function pick(
  resources: readonly MarkedResource[],
  role: string,
  owner?: { readonly consumer?: string; readonly runner?: string },
): MarkedResource {
  const matching = resources.filter(
    (r) =>
      r.role === role &&
      (owner?.consumer === undefined || r.consumer === owner.consumer) &&
      (owner?.runner === undefined || r.runner === owner.runner),
  );
  if (matching.length === 1 && matching[0]) return matching[0];
  const names = resources
    .filter((r) => r.role === role)
    .map((r) => r.consumer ?? r.runner ?? r.logicalId);
  if (matching.length === 0)
    throw new CommandError(
      `no ${role} ${owner?.consumer ?? owner?.runner ?? ''} in the stack; found: ${names.join(', ') || 'none'}`.replace(
        '  ',
        ' ',
      ),
    );
  throw new CommandError(`several of role ${role} (${names.join(', ')}); name one`);
}
