import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  paginateListEventSourceMappings,
} from '@aws-sdk/client-lambda';
import { ConsumerEnvironment } from '../consumer/environment.js';
import { InboxDefaults } from '../consumer/options.js';
import { RelayEnvironment } from '../relay/environment.js';
import { ResourceRole } from '../shared/resource-roles.js';
import type { MarkedResource } from './stack.js';
import { operatorClientConfig } from './target.js';

export interface DeployedRelay {
  readonly name: string;
  readonly functionName: string;
  readonly deadLetterQueueUrl: string;
  readonly eventBusName: string;
  /**
   * The tables whose streams it reads, from its event source mappings: the box's own,
   * `additionalTables`, and the tables of consumers and job runners that publish through it.
   */
  readonly tables: readonly string[];
  /** Each of those streams' event source mapping: `Enabled`, or why not. */
  readonly mappings: readonly StreamMapping[];
  readonly logGroupName: string;
}

export interface StreamMapping {
  readonly tableName: string;
  /** The stream it reads: a table's stream switched off and on has a new one. */
  readonly eventSourceArn: string;
  readonly state: string;
  readonly stateTransitionReason?: string;
  /** "OK", "No records processed", or "PROBLEM: ..." when the function fails its batches. */
  readonly lastProcessingResult?: string;
}

export interface DeployedConsumer {
  readonly name: string;
  readonly functionName: string;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly tableName?: string;
  /** How long its inbox remembers an event: replays of older events would apply twice. */
  readonly inboxTtlSeconds: number;
}

/** What a stack deployed with Eventbox's constructs holds, resolved to names and URLs. */
export interface Deployment {
  readonly relays: readonly DeployedRelay[];
  readonly consumers: readonly DeployedConsumer[];
  readonly boxTables: readonly string[];
  readonly jobsTables: ReadonlyArray<{ readonly runner: string; readonly tableName: string }>;
  readonly eventBuses: readonly string[];
  readonly archives: readonly string[];
}

/**
 * Reads the relays' and consumers' settings from their functions' environments; with
 * `mappings`, also each relay's stream mappings (`lambda:ListEventSourceMappings`), which
 * only `status` and `outbox replay` need.
 */
export async function deploymentOf(
  resources: readonly MarkedResource[],
  options: { readonly mappings?: boolean } = {},
): Promise<Deployment> {
  const lambda = new LambdaClient(operatorClientConfig());
  const configuration = (functionName: string) =>
    lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
  const environment = async (functionName: string) =>
    (await configuration(functionName)).Environment?.Variables ?? {};
  const of = (role: string) => resources.filter((r) => r.role === role);
  const relays = await Promise.all(
    of(ResourceRole.relayFunction).map(async (fn) => {
      const config = await configuration(fn.physicalId);
      const env = config.Environment?.Variables ?? {};
      const dlq = of(ResourceRole.relayDeadLetterQueue).find((q) => q.relay === fn.relay);
      const mappings = options.mappings ? await streamMappingsOf(lambda, fn.physicalId) : [];
      return {
        name: fn.relay ?? fn.logicalId,
        functionName: fn.physicalId,
        deadLetterQueueUrl: dlq?.physicalId ?? env[RelayEnvironment.deadLetterQueueUrl] ?? '',
        eventBusName: env[RelayEnvironment.eventBusName] ?? '',
        tables: [...new Set(mappings.map((m) => m.tableName))],
        mappings,
        logGroupName: config.LoggingConfig?.LogGroup ?? `/aws/lambda/${fn.physicalId}`,
      };
    }),
  );
  const consumers = await Promise.all(
    of(ResourceRole.consumerFunction).map(async (fn) => {
      const env = await environment(fn.physicalId);
      const name = fn.consumer ?? fn.logicalId;
      const tableName = env[ConsumerEnvironment.tableName];
      const find = (role: string) => of(role).find((r) => r.consumer === name)?.physicalId;
      return {
        name,
        functionName: fn.physicalId,
        queueUrl: find(ResourceRole.consumerQueue) ?? '',
        deadLetterQueueUrl:
          find(ResourceRole.consumerDeadLetterQueue) ??
          env[ConsumerEnvironment.deadLetterQueueUrl] ??
          '',
        ...(tableName ? { tableName } : {}),
        inboxTtlSeconds: Number(
          env[ConsumerEnvironment.inboxTtlSeconds] ?? InboxDefaults.inboxTtlSeconds,
        ),
      };
    }),
  );
  return {
    relays,
    consumers,
    boxTables: of(ResourceRole.boxTable).map((r) => r.physicalId),
    jobsTables: of(ResourceRole.jobsTable).map((r) => ({
      runner: r.runner ?? r.logicalId,
      tableName: r.physicalId,
    })),
    eventBuses: of(ResourceRole.eventBus).map((r) => r.physicalId),
    archives: of(ResourceRole.archive).map((r) => r.physicalId),
  };
}

/** A function's event source mappings on DynamoDB streams, by the table each reads. */
async function streamMappingsOf(
  lambda: LambdaClient,
  functionName: string,
): Promise<StreamMapping[]> {
  const mappings: StreamMapping[] = [];
  for await (const page of paginateListEventSourceMappings(
    { client: lambda },
    { FunctionName: functionName },
  )) {
    for (const mapping of page.EventSourceMappings ?? []) {
      const tableName = /:table\/([^/]+)\/stream\//.exec(mapping.EventSourceArn ?? '')?.[1];
      if (!tableName) continue;
      mappings.push({
        tableName,
        eventSourceArn: mapping.EventSourceArn ?? '',
        state: mapping.State ?? 'unknown',
        ...(mapping.StateTransitionReason
          ? { stateTransitionReason: mapping.StateTransitionReason }
          : {}),
        ...(mapping.LastProcessingResult
          ? { lastProcessingResult: mapping.LastProcessingResult }
          : {}),
      });
    }
  }
  return mappings;
}

/**
 * Tables the stack declares as relayed (box tables, job runners' tables) that no relay's
 * stream mapping reads now: a mapping deleted, or one a deploy has yet to create.
 */
export function unrelayedTables(deployment: Deployment): string[] {
  const read = new Set(deployment.relays.flatMap((r) => r.tables));
  const declared = [...deployment.boxTables, ...deployment.jobsTables.map((j) => j.tableName)];
  return [...new Set(declared)].filter((t) => !read.has(t));
}
