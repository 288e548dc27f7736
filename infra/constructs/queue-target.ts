import type { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { ruleMaySend } from './service-access.js';
import { checkRange, InvalidPropsError } from './validation.js';

export interface EventBoxQueueTargetProps {
  /** Where EventBridge puts events it could not deliver (with their error). @default none */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Delivery retries, 0 to 185. @default 185 */
  readonly retryAttempts?: number;
  /** Give up on an event older than this, 60 s to 24 hours. @default 24 hours */
  readonly maxEventAge?: Duration;
  /** The message group of every event, for a FIFO queue (required there); a JSON path such as `$.detail.aggregate.id` works. */
  readonly messageGroupId?: string;
}

/**
 * An SQS queue as a rule's target, which only that rule may send to: the queue policy
 * (and the dead-letter queue's) allow EventBridge `sqs:SendMessage` and nothing else, under
 * `aws:SourceArn` of the rule and `aws:SourceAccount`; under a customer-managed key, the
 * key policy likewise. The CDK's `targets.SqsQueue` leaves an encrypted queue's statement
 * without the rule's ARN (and, without the `eventsTargetQueueSameAccount` feature flag,
 * without any condition), so that any account's rule could send to it.
 *
 * An encrypted queue's rule needs a `ruleName` (the key policy names the rule's ARN).
 *
 * @example
 * new events.Rule(stack, 'Audit', {
 *   eventBus: box.eventBus,
 *   eventPattern: { source: ['orders'] },
 *   targets: [new EventBoxQueueTarget(auditQueue)],
 * });
 */
export class EventBoxQueueTarget implements events.IRuleTarget {
  constructor(
    readonly queue: sqs.IQueue,
    private readonly props: EventBoxQueueTargetProps = {},
  ) {
    checkRange('retryAttempts', props.retryAttempts, 0, 185);
    const age = props.maxEventAge;
    if (age && !age.isUnresolved())
      checkRange('maxEventAge (seconds)', age.toSeconds(), 60, 86_400);
  }

  bind(rule: events.IRule): events.RuleTargetConfig {
    const dlq = this.props.deadLetterQueue;
    const group = this.props.messageGroupId;
    if (this.queue.fifo && !group) {
      throw new InvalidPropsError(
        `The FIFO queue ${this.queue.node.path} needs a messageGroupId on its EventBoxQueueTarget`,
      );
    }
    ruleMaySend(rule, this.queue);
    if (dlq) ruleMaySend(rule, dlq);
    return {
      arn: this.queue.queueArn,
      ...(dlq ? { deadLetterConfig: { arn: dlq.queueArn } } : {}),
      retryPolicy: {
        maximumRetryAttempts: this.props.retryAttempts ?? 185,
        maximumEventAgeInSeconds: this.props.maxEventAge?.toSeconds() ?? 86_400,
      },
      ...(group ? { sqsParameters: { messageGroupId: group } } : {}),
    };
  }
}
