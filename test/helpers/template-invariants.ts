import { ConsumerCalls } from '../../lib/consumer/calls.js';
import { DispatcherCalls, JobRunnerCalls } from '../../lib/jobs/calls.js';
import { RelayCalls } from '../../lib/relay/calls.js';
import { KeyActions } from '../../lib/shared/aws-calls.js';
import { ResourceRole } from '../../lib/shared/resource-roles.js';

type Json = Record<string, unknown>;
export type Resources = Record<string, { Type: string; Properties?: Json; Metadata?: Json }>;
type Statement = {
  Effect?: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Actions AWS offers no resource-level permission for: only these may name `Resource: "*"`. */
export const NO_RESOURCE_LEVEL = new Set([
  'dynamodb:ListStreams',
  // X-Ray tracing and CloudWatch Logs delivery of a state machine.
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
]);

/** The condition keys that tie a service principal's statement to one source. */
const SOURCE_KEYS: Record<string, readonly string[]> = {
  'events.amazonaws.com': ['aws:SourceArn'],
  'cloudwatch.amazonaws.com': ['aws:SourceArn', 'aws:SourceAccount'],
  logs: ['kms:EncryptionContext:aws:logs:arn'],
};

type Policy = { id: string; statements: Statement[] };

function resourcePolicies(resources: Resources): Policy[] {
  return Object.entries(resources).flatMap(([id, r]): Policy[] => {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::Lambda::Permission') {
      // A permission is one statement, its source conditions as properties.
      const condition = {
        ...(p.SourceArn ? { ArnLike: { 'aws:SourceArn': p.SourceArn } } : {}),
        ...(p.SourceAccount ? { StringEquals: { 'aws:SourceAccount': p.SourceAccount } } : {}),
      };
      const principal = String(p.Principal);
      return [
        {
          id,
          statements: [
            {
              Effect: 'Allow',
              Action: String(p.Action),
              Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : principal,
              Condition: condition,
            },
          ],
        },
      ];
    }
    if (r.Type === 'AWS::Events::EventBusPolicy' && p.Statement)
      return [{ id, statements: [p.Statement as Statement] }];
    const document =
      r.Type === 'AWS::KMS::Key'
        ? p.KeyPolicy
        : ['AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy'].includes(r.Type)
          ? p.PolicyDocument
          : undefined;
    return document ? [{ id, statements: list((document as Json).Statement as Statement[]) }] : [];
  });
}

function serviceOf(principal: unknown): string[] {
  const service = (principal as Json | undefined)?.Service;
  return list(service as unknown).map((s) => (typeof s === 'string' ? s : JSON.stringify(s)));
}

/** Whether a principal is anyone at all: `"*"` or `{ AWS: "*" }`. */
const isAnyone = (principal: unknown) =>
  principal === '*' || list((principal as Json | undefined)?.AWS as unknown).includes('*');

/** Whether a condition value pins a source, rather than matching any: no bare "*". */
const pins = (value: unknown) => !list(value as unknown).some((v) => v === '*' || v === 'arn:*');

/**
 * Resource-policy statements that let a service principal in without a condition naming
 * its source, or anyone in without any condition at all.
 */
export function unscopedServiceStatements(resources: Resources): string[] {
  return resourcePolicies(resources).flatMap(({ id, statements }) =>
    statements
      .filter((s) => s.Effect !== 'Deny')
      .flatMap((s) => {
        const conditions = Object.values(s.Condition ?? {});
        if (isAnyone(s.Principal) && conditions.length === 0)
          return [`${id}: anyone ${JSON.stringify(s.Action)}`];
        return serviceOf(s.Principal).flatMap((service) => {
          const keys = SOURCE_KEYS[service.includes('logs.') ? 'logs' : service] ?? [
            'aws:SourceArn',
            'aws:SourceAccount',
          ];
          const scoped = conditions.some((c) =>
            Object.entries(c).some(([k, v]) => keys.includes(k) && pins(v)),
          );
          return scoped ? [] : [`${id}: ${service} ${JSON.stringify(s.Action)}`];
        });
      }),
  );
}

/** Queue-policy statements that give EventBridge more than sqs:SendMessage. */
export function eventBridgeQueueActions(resources: Resources): string[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::SQS::QueuePolicy')
    .flatMap(([id, r]) =>
      list((((r.Properties?.PolicyDocument ?? {}) as Json).Statement ?? []) as Statement[])
        .filter((s) => serviceOf(s.Principal).includes('events.amazonaws.com'))
        .flatMap((s) => list(s.Action).filter((a) => a !== 'sqs:SendMessage'))
        .map((a) => `${id}: ${a}`),
    );
}

function rolePolicies(
  resources: Resources,
): Array<{ id: string; roles: string[]; statements: Statement[] }> {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
    .map(([id, r]) => ({
      id,
      roles: list(r.Properties?.Roles as Array<{ Ref: string }>).map((x) => x.Ref),
      statements: list(((r.Properties?.PolicyDocument ?? {}) as Json).Statement as Statement[]),
    }));
}

/** IAM statements with `Resource: "*"` for actions that have resource-level permissions. */
export function wildcardResources(resources: Resources): string[] {
  return rolePolicies(resources).flatMap(({ id, statements }) =>
    statements
      .filter((s) => list(s.Resource).includes('*'))
      .flatMap((s) => list(s.Action).filter((a) => !NO_RESOURCE_LEVEL.has(a)))
      .map((a) => `${id}: ${a}`),
  );
}

const KMS = Object.values(KeyActions).flat();
const allowed = (calls: Record<string, readonly string[]>) =>
  new Set([...Object.values(calls).flat(), ...KMS]);

export type FunctionKind = 'relay' | 'consumer' | 'runner' | 'dispatcher';
export const CALLS_OF: Record<FunctionKind, Set<string>> = {
  relay: allowed(RelayCalls),
  consumer: allowed(ConsumerCalls),
  runner: allowed(JobRunnerCalls),
  dispatcher: allowed(DispatcherCalls),
};

/**
 * Actions on the roles of Eventbox's functions that their runtime does not call: each
 * function's kind is told by `kindOf` from its metadata.
 */
export function uncalledActions(
  resources: Resources,
  kindOf: (metadata: { role: string; consumer?: string }) => FunctionKind | undefined,
): string[] {
  const kinds = functionKinds(resources, kindOf);
  return rolePolicies(resources).flatMap(({ id, roles, statements }) =>
    roles.flatMap((role) => {
      const kind = kinds.get(role);
      if (!kind) return [];
      return statements
        .flatMap((s) => list(s.Action))
        .filter((a) => !CALLS_OF[kind].has(a))
        .map((a) => `${id} (${kind}): ${a}`);
    }),
  );
}

/** Each Eventbox function's role, by logical id, with the function's kind. */
export function functionKinds(
  resources: Resources,
  kindOf: (metadata: { role: string; consumer?: string }) => FunctionKind | undefined,
): Map<string, FunctionKind> {
  const kinds = new Map<string, FunctionKind>();
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const metadata = r.Metadata?.eventbox as { role: string; consumer?: string } | undefined;
    const role = (r.Properties?.Role as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0];
    const kind = metadata && kindOf(metadata);
    if (role && kind) kinds.set(role, kind);
  }
  return kinds;
}

/** The kind of an Eventbox function from its metadata, given the job runners' names. */
export function kindByName(runners: readonly string[]) {
  return (m: { role: string; consumer?: string }): FunctionKind | undefined => {
    if (m.role === ResourceRole.relayFunction) return 'relay';
    if (m.role !== ResourceRole.consumerFunction) return undefined;
    if (runners.includes(m.consumer ?? '')) return 'runner';
    if (runners.some((r) => m.consumer === `${r}-dispatcher`)) return 'dispatcher';
    return 'consumer';
  };
}

/**
 * Queues, tables, topics and log groups that are not encrypted (with `keyed` resources
 * under the key), or keep data without a retention.
 */
export function unencryptedOrUnbounded(resources: Resources, keyed: boolean): string[] {
  const key = (value: unknown) => !keyed || (value !== undefined && value !== '');
  return Object.entries(resources).flatMap(([id, r]) => {
    const p = r.Properties ?? {};
    const problems: string[] = [];
    if (r.Type === 'AWS::SQS::Queue') {
      if (
        !(p.SqsManagedSseEnabled === true || key(p.KmsMasterKeyId)) ||
        (keyed && !p.KmsMasterKeyId)
      )
        problems.push('queue not encrypted');
      if (p.MessageRetentionPeriod === undefined) problems.push('queue without retention');
    }
    if (r.Type === 'AWS::DynamoDB::Table') {
      const sse = p.SSESpecification as Json | undefined;
      if (keyed && !(sse?.SSEEnabled === true && key(sse.KMSMasterKeyId)))
        problems.push('table not under the key');
      const pitr = p.PointInTimeRecoverySpecification as Json | undefined;
      if (pitr?.PointInTimeRecoveryEnabled !== true)
        problems.push('table without point-in-time recovery');
    }
    if (r.Type === 'AWS::SNS::Topic' && keyed && !key(p.KmsMasterKeyId))
      problems.push('topic not under the key');
    if (r.Type === 'AWS::Logs::LogGroup') {
      if (keyed && !key(p.KmsKeyId)) problems.push('log group not under the key');
      if (p.RetentionInDays === undefined) problems.push('log group without retention');
    }
    return problems.map((problem) => `${id}: ${problem}`);
  });
}
