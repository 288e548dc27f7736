import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { InboxMessage } from '../../lib/consumer/messages.js';
import type { EventEnvelope } from '../../lib/envelope/envelope.js';
import { JobEvent } from '../../lib/jobs/messages.js';
import { JobRunner, type JobRunnerOptions } from '../../lib/jobs/runner.js';
import { OutboxItem } from '../../lib/shared/outbox-item.js';
import { TransactionConflictError } from '../../lib/transaction/errors.js';
import { sqsMessage } from './inbox.js';

/** Thrown by the crashing client: the invocation died there. */
export class Crash extends Error {
  override name = 'Crash';
}

export interface NetworkOptions {
  readonly random: () => number;
  /** Chance that a transaction's invocation dies just before it, and just after it. */
  readonly crashBefore?: number;
  readonly crashAfter?: number;
  /** Most deliveries of one relayed message (EventBridge and SQS deliver at least once). */
  readonly maxCopies?: number;
  /**
   * Calls whose response is lost after they applied: the SDK sends them again and the
   * runner sees the second answer (a conditional write then fails its own condition).
   */
  readonly loseResponse?: (command: string, input: Record<string, unknown>) => boolean;
  /** Calls that fail before they apply, with the error this returns (a throttle, a conflict). */
  readonly failCall?: (command: string, input: Record<string, unknown>) => Error | undefined;
}

/**
 * Plays relay, bus and queue for a job runner: every job event committed to the jobs
 * table's outbox is delivered 1 to `maxCopies` times, in random order; a message the
 * runner does not finish (a retry, a failure, a crash) goes back to the queue, as SQS
 * would redeliver it. Invocations die before or after their transactions at random.
 */
export class Network {
  readonly runner: JobRunner;
  readonly document: DynamoDBDocumentClient;
  readonly deadLetters: Array<{ reason: string }> = [];
  readonly crashes = { before: 0, after: 0 };
  readonly #queue: InboxMessage[] = [];
  readonly #relayed = new Set<string>();
  readonly #options: NetworkOptions;
  readonly #tableName: string;
  #crashing = true;

  constructor(
    endpointConfig: ConstructorParameters<typeof DynamoDBClient>[0],
    runner: Omit<JobRunnerOptions, 'client' | 'clientConfig'>,
    options: NetworkOptions,
  ) {
    this.#options = options;
    this.#tableName = runner.tableName;
    const base = new DynamoDBClient(endpointConfig ?? {});
    this.document = DynamoDBDocumentClient.from(base);
    const crashing = new DynamoDBClient(endpointConfig ?? {});
    crashing.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as Record<string, unknown>;
        const failure = options.failCall?.(context.commandName ?? '', input);
        if (failure) throw failure;
        if (options.loseResponse?.(context.commandName ?? '', input)) {
          await next(args);
          return next(args);
        }
        if (context.commandName !== 'TransactWriteItemsCommand' || !this.#crashing)
          return next(args);
        if (options.random() < (options.crashBefore ?? 0)) {
          this.crashes.before++;
          throw new Crash('died before the transaction');
        }
        const result = await next(args);
        if (options.random() < (options.crashAfter ?? 0)) {
          this.crashes.after++;
          throw new Crash('died after the transaction committed');
        }
        return result;
      },
      { step: 'initialize', name: `crash-${randomUUID()}` },
    );
    this.runner = new JobRunner({ ...runner, client: crashing } as JobRunnerOptions);
  }

  /** Relays every job event committed since the last call, each 1 to maxCopies times. */
  async relay(): Promise<number> {
    const { Items = [] } = await this.document.send(
      new ScanCommand({
        TableName: this.#tableName,
        FilterExpression: '#m = :m AND #src = :src',
        ExpressionAttributeNames: { '#m': OutboxItem.markerAttribute, '#src': 'source' },
        ExpressionAttributeValues: { ':m': OutboxItem.markerValue, ':src': JobEvent.source },
        ConsistentRead: true,
      }),
    );
    let added = 0;
    for (const item of Items) {
      if (this.#relayed.has(String(item.eventId))) continue;
      this.#relayed.add(String(item.eventId));
      const envelope = JSON.parse(String(item.detail)) as EventEnvelope;
      if (![JobEvent.started, JobEvent.task, JobEvent.resumed].includes(envelope.type as never))
        continue;
      const copies = 1 + Math.floor(this.#options.random() * (this.#options.maxCopies ?? 1));
      for (let i = 0; i < copies; i++) {
        this.#queue.splice(
          Math.floor(this.#options.random() * (this.#queue.length + 1)),
          0,
          sqsMessage(envelope),
        );
        added++;
      }
    }
    return added;
  }

  /** Delivers messages until nothing is left to deliver; returns how many were delivered. */
  async run(maxDeliveries = 2_000): Promise<number> {
    let delivered = 0;
    for (;;) {
      await this.relay();
      const message = this.#queue.shift();
      if (!message) return delivered;
      if (++delivered > maxDeliveries) throw new Error(`no end after ${maxDeliveries} deliveries`);
      const outcome = await this.runner.process(message);
      if (outcome.status === 'dead-letter') this.deadLetters.push({ reason: outcome.reason });
      else if (outcome.status === 'retry' || outcome.status === 'failed') {
        // A failed invocation comes back as SQS would bring it back; only an unexpected
        // error (not a crash, a conflict or a throttle) ends the run.
        if (outcome.status === 'failed' && !this.#retryable(outcome.error)) throw outcome.error;
        this.#queue.push({ ...message, receiveCount: message.receiveCount + 1 });
      }
    }
  }

  #retryable(error: unknown): boolean {
    return (
      error instanceof Crash ||
      error instanceof TransactionConflictError ||
      (error instanceof Error && error.name === 'ThrottlingException')
    );
  }

  /** Takes every job event committed so far as delivered and consumed: none goes out again. */
  async consumeAll(): Promise<void> {
    await this.relay();
    this.#queue.length = 0;
  }

  /** Stops crashing (a quiet period after the faults). */
  quiet(): void {
    this.#crashing = false;
  }

  async items(pk: string): Promise<Array<Record<string, unknown>>> {
    const { Items = [] } = await this.document.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
      }),
    );
    return Items;
  }
}
