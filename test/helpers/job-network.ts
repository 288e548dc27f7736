import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Outcome } from '../../lib/consumer/engine.js';
import type { InboxMessage } from '../../lib/delivery/messages.js';
import type { EventEnvelope } from '../../lib/envelope/envelope.js';
import { OutboxItem } from '../../lib/envelope/outbox-item.js';
import { JobEvent } from '../../lib/jobs/messages.js';
import { JobRunner, type JobRunnerOptions } from '../../lib/jobs/runner.js';
import { TransactionConflictError } from '../../lib/transaction/errors.js';
import { sqsMessage } from './inbox.js';

/** Thrown by the crashing client: the invocation died there. */
export class Crash extends Error {
  override name = 'Crash';
}

/** The writes whose response can be lost after they applied. */
const CONDITIONAL_WRITES = new Set([
  'TransactWriteItemsCommand',
  'UpdateItemCommand',
  'PutItemCommand',
]);

export interface NetworkOptions {
  readonly random: () => number;
  /** Chance that a transaction's invocation dies just before it, and just after it. */
  readonly crashBefore?: number;
  readonly crashAfter?: number;
  /** Chance that an invocation dies before any AWS call (so between any two of them). */
  readonly crashAnyCall?: number;
  /**
   * Chance, at any AWS call, that the invocation times out there: the message comes back
   * after its visibility timeout, and the call lands at some later point, often after
   * another delivery took the attempt over (a zombie's last request).
   */
  readonly timeout?: number;
  /** Chance that a conditional write's response is lost after it applied (sent again). */
  readonly loseAnyResponse?: number;
  /** Chance that any call is throttled (after the SDK's own retries). */
  readonly throttle?: number;
  /** Most deliveries of one relayed message (EventBridge and SQS deliver at least once). */
  readonly maxCopies?: number;
  /** Messages handled at once, interleaved at every AWS call. @default 1 */
  readonly concurrency?: number;
  /** Chance that a message of a batch is delivered twice at once (one SQS message). */
  readonly concurrentCopy?: number;
  /** Runners taking the deliveries (each its own clients). @default 1 */
  readonly runners?: number;
  /** The queue's maxReceiveCount: a message not done by then goes to `deadLetters`. */
  readonly maxReceiveCount?: number;
  /** An invocation's deadline after it starts (its lease), and the visibility timeout. @default 60 s */
  readonly invocationMs?: number;
  /**
   * Calls whose response is lost after they applied: the SDK sends them again and the
   * runner sees the second answer (a conditional write then fails its own condition).
   */
  readonly loseResponse?: (command: string, input: Record<string, unknown>) => boolean;
  /** Calls that fail before they apply, with the error this returns (a throttle, a conflict). */
  readonly failCall?: (command: string, input: Record<string, unknown>) => Error | undefined;
}

/** One delivery in flight: what the clients' middleware knows of the invocation it serves. */
interface InFlight {
  readonly id: string;
  readonly deadline: number;
  dead: boolean;
  timedOut: boolean;
  onTimeout?: () => void;
}

/** Promise.withResolvers, which Node 20 lacks. */
function resolvers<T>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

interface Queued {
  readonly message: InboxMessage;
  visibleAt: number;
}

/**
 * Plays relay, bus, queue and Lambda for job runners: every job event committed to the
 * jobs table's outbox is delivered 1 to `maxCopies` times, in random order; a message the
 * runner does not finish (a retry, a failure, a crash) comes back when SQS would bring it
 * back, on a virtual clock the runners read. Deliveries run `concurrency` at a time, on
 * one of `runners` runners, interleaved at random at every AWS call; invocations die
 * before any call, lose responses, are throttled, or time out with a request in flight.
 */
export class Network {
  readonly runners: JobRunner[] = [];
  readonly document: DynamoDBDocumentClient;
  readonly deadLetters: Array<{ reason: string; jobId?: string }> = [];
  readonly crashes = { before: 0, after: 0, anyCall: 0, timeouts: 0, lost: 0, throttled: 0 };
  /** Deliveries whose invocation died or timed out: what they ran is not theirs any more. */
  readonly #gone = new Set<string>();
  readonly #deadlines = new Map<string, number>();
  readonly #inFlight = new AsyncLocalStorage<InFlight>();
  readonly #queue: Queued[] = [];
  readonly #relayed = new Set<string>();
  readonly #options: NetworkOptions;
  readonly #tableName: string;
  /** The jobs the runners know; with none, every job's messages are delivered. */
  readonly #names: ReadonlySet<string>;
  readonly #zombies: Array<{ release: () => void; done: Promise<unknown>; deadline: number }> = [];
  #crashing = true;
  #now = Date.now();

  constructor(
    endpointConfig: ConstructorParameters<typeof DynamoDBClient>[0],
    runner: Omit<JobRunnerOptions, 'client' | 'clientConfig'>,
    options: NetworkOptions,
  ) {
    this.#options = options;
    this.#tableName = runner.tableName;
    this.#names = new Set(runner.jobs.map((job) => job.name));
    this.document = DynamoDBDocumentClient.from(new DynamoDBClient(endpointConfig ?? {}));
    for (let i = 0; i < (options.runners ?? 1); i++) {
      const faulty = new DynamoDBClient(endpointConfig ?? {});
      faulty.middlewareStack.add(
        (next, context) => async (args) =>
          this.#call(context.commandName ?? '', args.input as Record<string, unknown>, () =>
            next(args),
          ),
        { step: 'initialize', name: `faults-${randomUUID()}` },
      );
      this.runners.push(
        new JobRunner({
          ...runner,
          client: faulty,
          clock: () => this.#now,
          ...(options.maxReceiveCount ? { maxReceiveCount: options.maxReceiveCount } : {}),
        } as JobRunnerOptions),
      );
    }
  }

  /** The first runner. */
  get runner(): JobRunner {
    return this.runners[0] as JobRunner;
  }

  /** The virtual time the runners read, in ms since the epoch. */
  get now(): number {
    return this.#now;
  }

  /** The delivery this code runs in, if any (for checks inside steps and tasks). */
  delivery(): string | undefined {
    return this.#inFlight.getStore()?.id;
  }

  /** Whether the delivery's invocation died, timed out, or is past its deadline. */
  gone(id: string): boolean {
    return this.#gone.has(id) || (this.#deadlines.get(id) ?? Infinity) < this.#now;
  }

  async #call<T>(
    command: string,
    input: Record<string, unknown>,
    send: () => Promise<T>,
  ): Promise<T> {
    const o = this.#options;
    const flight = this.#inFlight.getStore();
    // Lambda ends an invocation at its deadline: nothing after it is sent.
    if (flight && flight.deadline < this.#now) this.#die(flight);
    if (flight?.dead) throw new Crash('the invocation is dead');
    // Let the other deliveries of the batch run: they interleave at every call.
    const ticks = Math.floor(o.random() * 4);
    for (let i = 0; i < ticks; i++) await new Promise((resolve) => setImmediate(resolve));
    if (flight?.dead) throw new Crash('the invocation is dead');
    const failure = o.failCall?.(command, input);
    if (failure) throw failure;
    const faulty = this.#crashing && flight !== undefined;
    if (faulty && o.random() < (o.throttle ?? 0)) {
      this.crashes.throttled++;
      throw Object.assign(new Error('Rate exceeded (injected)'), { name: 'ThrottlingException' });
    }
    if (faulty && o.random() < (o.crashAnyCall ?? 0)) {
      this.crashes.anyCall++;
      this.#die(flight);
      throw new Crash(`died before ${command}`);
    }
    if (faulty && o.random() < (o.timeout ?? 0)) {
      // Timed out here: the message comes back, and this request lands later, a zombie's.
      this.crashes.timeouts++;
      flight.timedOut = true;
      this.#die(flight);
      const { promise: gate, resolve: release } = resolvers<void>();
      const done = gate.then(send);
      this.#zombies.push({
        release,
        done: done.catch(() => undefined),
        deadline: flight.deadline,
      });
      flight.onTimeout?.();
      await done;
      throw new Crash(`timed out in ${command}`);
    }
    const transaction = command === 'TransactWriteItemsCommand';
    if (faulty && transaction && o.random() < (o.crashBefore ?? 0)) {
      this.crashes.before++;
      this.#die(flight);
      throw new Crash('died before the transaction');
    }
    const lose =
      o.loseResponse?.(command, input) ||
      (faulty && CONDITIONAL_WRITES.has(command) && o.random() < (o.loseAnyResponse ?? 0));
    if (lose) {
      this.crashes.lost++;
      await send().catch(() => undefined);
    }
    const result = await send();
    if (faulty && transaction && o.random() < (o.crashAfter ?? 0)) {
      this.crashes.after++;
      this.#die(flight);
      throw new Crash('died after the transaction committed');
    }
    return result;
  }

  #die(flight: InFlight): void {
    flight.dead = true;
    this.#gone.add(flight.id);
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
      // Another test's job, in the same table: not this network's to deliver.
      const name = (envelope.payload as { name?: string }).name;
      if (this.#names.size > 0 && !this.#names.has(name ?? '')) continue;
      const copies = 1 + Math.floor(this.#options.random() * (this.#options.maxCopies ?? 1));
      for (let i = 0; i < copies; i++) {
        this.#queue.splice(Math.floor(this.#options.random() * (this.#queue.length + 1)), 0, {
          message: sqsMessage(envelope, 0),
          visibleAt: this.#now,
        });
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
      const batch = this.#take();
      if (batch.length === 0) {
        if (this.#queue.length > 0) {
          this.#now = Math.max(this.#now, Math.min(...this.#queue.map((q) => q.visibleAt)));
          continue;
        }
        await this.#releaseZombies(true);
        await this.relay();
        if (this.#queue.length === 0) return delivered;
        continue;
      }
      delivered += batch.length;
      if (delivered > maxDeliveries) throw new Error(`no end after ${maxDeliveries} deliveries`);
      await Promise.all(batch.map((message) => this.#deliver(message)));
      await this.#releaseZombies(false);
      this.#now += Math.floor(this.#options.random() * 200);
    }
  }

  /** Up to `concurrency` visible messages, some of them twice (one SQS message, two receipts). */
  #take(): InboxMessage[] {
    const o = this.#options;
    const batch: InboxMessage[] = [];
    for (let i = 0; i < this.#queue.length && batch.length < (o.concurrency ?? 1); ) {
      const queued = this.#queue[i] as Queued;
      if (queued.visibleAt > this.#now) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      const message = { ...queued.message, receiveCount: queued.message.receiveCount + 1 };
      batch.push(message);
      if (this.#crashing && o.random() < (o.concurrentCopy ?? 0)) batch.push(message);
    }
    return batch;
  }

  async #deliver(message: InboxMessage): Promise<void> {
    const invocationMs = this.#options.invocationMs ?? 60_000;
    const deadline = this.#now + invocationMs;
    const flight: InFlight = { id: randomUUID(), deadline, dead: false, timedOut: false };
    this.#deadlines.set(flight.id, deadline);
    const runner = this.runners[Math.floor(this.#options.random() * this.runners.length)];
    const { promise: timedOut, resolve } = resolvers<'timed-out'>();
    flight.onTimeout = () => resolve('timed-out');
    const outcome = await Promise.race([
      this.#inFlight.run(flight, () =>
        (runner as JobRunner)
          .process(message, { deadline })
          .catch((error: unknown): Outcome => ({ status: 'failed', error })),
      ),
      timedOut,
    ]);
    const back = (visibleAt: number) => {
      const { maxReceiveCount } = this.#options;
      if (maxReceiveCount !== undefined && message.receiveCount >= maxReceiveCount) {
        const event = JSON.parse(String(message.body)) as {
          detail?: { payload?: { jobId?: string } };
        };
        this.deadLetters.push({
          reason: `SQS moved it after ${message.receiveCount} receives`,
          ...(event.detail?.payload?.jobId ? { jobId: event.detail.payload.jobId } : {}),
        });
        return;
      }
      // The same SQS message is queued once, whichever of its receipts comes back.
      if (this.#queue.some((q) => q.message.messageId === message.messageId)) return;
      this.#queue.push({ message, visibleAt });
    };
    if (outcome === 'timed-out' || flight.dead) {
      // Its visibility timeout outlasts its deadline: when it shows again the lease is over.
      back(deadline + 1);
      return;
    }
    if (outcome.status === 'dead-letter') this.deadLetters.push({ reason: outcome.reason });
    else if (outcome.status === 'retry') back(this.#now + outcome.delaySeconds * 1000);
    else if (outcome.status === 'failed') {
      // Only a crash, a conflict or a throttle may fail a delivery: anything else ends the run.
      if (!this.#retryable(outcome.error)) throw outcome.error;
      back(this.#now + (runner as JobRunner).backoffSeconds(message.receiveCount) * 1000);
    }
  }

  /**
   * Lets timed-out requests land: all of them, or (between batches) at random some of
   * those whose lease is over, so a zombie's write often lands after another delivery
   * took its attempt over.
   */
  async #releaseZombies(all: boolean): Promise<void> {
    const due = this.#zombies.filter(
      (z) => all || (z.deadline < this.#now && this.#options.random() < 0.5),
    );
    for (const zombie of due) {
      this.#zombies.splice(this.#zombies.indexOf(zombie), 1);
      zombie.release();
    }
    await Promise.all(due.map((z) => z.done));
  }

  #retryable(error: unknown): boolean {
    return (
      error instanceof Crash ||
      error instanceof TransactionConflictError ||
      (error instanceof Error && error.name === 'ThrottlingException')
    );
  }

  /** Takes the messages relayed so far off the queue, to deliver by hand. */
  async drain(): Promise<InboxMessage[]> {
    await this.relay();
    return this.#queue.splice(0).map((q) => ({ ...q.message, receiveCount: 1 }));
  }

  /** Takes every job event committed so far as delivered and consumed: none goes out again. */
  async consumeAll(): Promise<void> {
    await this.relay();
    this.#queue.length = 0;
  }

  /** Stops the faults (a quiet period after them). */
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
