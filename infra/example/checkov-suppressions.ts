/** Which synthesis of the example app a finding is accepted on. */
export type ExampleVariant = 'plain' | 'encrypted';

export interface AcceptedFinding {
  /** The checkov check. */
  readonly check: string;
  /** The resource type it is accepted on; on any other it fails. */
  readonly resourceType: string;
  readonly variants: readonly ExampleVariant[];
  /** Holds of every resource the finding is accepted on (else the finding stands). */
  readonly when?: (properties: Readonly<Record<string, unknown>>) => boolean;
  readonly reason: string;
}

/**
 * The checkov findings the example app accepts, each with its reason: checkov runs over
 * the app synthesized without a key (`plain`) and with one (`encrypted`), and every other
 * finding fails the build, as does an entry here that no longer matches anything.
 */
export const ACCEPTED_CHECKOV_FINDINGS: readonly AcceptedFinding[] = [
  {
    check: 'CKV_AWS_27',
    resourceType: 'AWS::SQS::Queue',
    variants: ['plain'],
    when: (p) => p.SqsManagedSseEnabled === true,
    reason:
      'The queue is encrypted at rest with SSE-SQS, which the check does not recognise (it looks for a KMS key); pass encryptionKey for a customer-managed key.',
  },
  {
    check: 'CKV_AWS_119',
    resourceType: 'AWS::DynamoDB::Table',
    variants: ['plain'],
    reason:
      "Without encryptionKey, tables are encrypted at rest with DynamoDB's owned key at no cost; pass encryptionKey for a customer-managed one.",
  },
  {
    check: 'CKV_AWS_158',
    resourceType: 'AWS::Logs::LogGroup',
    variants: ['plain'],
    reason:
      'Without encryptionKey, CloudWatch Logs encrypts log groups with its own keys; pass encryptionKey to use yours.',
  },
  {
    check: 'CKV_AWS_26',
    resourceType: 'AWS::SNS::Topic',
    variants: ['plain'],
    reason:
      "CloudWatch alarms cannot publish to a topic under SNS's AWS managed key, only under a customer-managed one; without encryptionKey the alarm topic (which carries alarm names and states, no event data) stays unencrypted, and synthesis warns (eventbox:alarmTopicUnencrypted).",
  },
  {
    check: 'CKV_AWS_115',
    resourceType: 'AWS::Lambda::Function',
    variants: ['plain', 'encrypted'],
    reason:
      "Reserved concurrency would cap the relay and the consumers below the account's and throttle them under load; a consumer's concurrency is bounded where it matters, on its event source mapping (maxConcurrency).",
  },
  {
    check: 'CKV_AWS_116',
    resourceType: 'AWS::Lambda::Function',
    variants: ['plain', 'encrypted'],
    reason:
      "A function's dead-letter queue catches failed asynchronous invocations; these functions are invoked by event source mappings (the queue's redrive to its dead-letter queue, the stream mapping's on-failure destination) or synchronously, never asynchronously.",
  },
  {
    check: 'CKV_AWS_117',
    resourceType: 'AWS::Lambda::Function',
    variants: ['plain', 'encrypted'],
    reason:
      'The functions reach only AWS APIs (DynamoDB, SQS, EventBridge, Step Functions, Lambda) over TLS with IAM; a VPC would add NAT gateways or endpoints and nothing to protect.',
  },
  {
    check: 'CKV_AWS_173',
    resourceType: 'AWS::Lambda::Function',
    variants: ['plain', 'encrypted'],
    reason:
      'The environment holds resource names, URLs and settings, no secrets; Lambda encrypts it at rest with its own key, and a customer-managed one would add a KMS call to every cold start.',
  },
];
