/**
 * Loaded into an `eventbox` process (`node --import`) by the soak's repair phase, to fail
 * it as the world would:
 * - EVENTBOX_SOAK_SEND_FAILURES (a rate): that share of SendMessage calls throttled before
 *   they reach SQS, and of PutEvents entries answered as failed although EventBridge took
 *   them (a lost answer: the event goes out twice);
 * - EVENTBOX_SOAK_KILL_AFTER_SENDS (a count): the process kills itself, as a lost terminal
 *   or an out-of-memory kill would, right after that many events sent on, before it
 *   deletes any letter.
 * Both sit inside the SDK's retries, where a real throttle or failure would.
 */
import { EventBridgeClient, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';

/** The part of an SDK client's middleware stack used here. */
type Handler = (args: object) => Promise<{ output: unknown }>;
interface Stack {
  add(middleware: (next: Handler, context: object) => Handler, options: object): void;
}

const failures = Number(process.env.EVENTBOX_SOAK_SEND_FAILURES ?? 0);
const killAfter = Number(process.env.EVENTBOX_SOAK_KILL_AFTER_SENDS ?? 0);
let sent = 0;
const faulty = new WeakSet<object>();

function throttled(): Error {
  return Object.assign(new Error('Rate exceeded (injected)'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
}

function countSent(): void {
  sent++;
  if (killAfter > 0 && sent >= killAfter) process.kill(process.pid, 'SIGKILL');
}

function addFaults(stack: Stack): void {
  stack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName;
      if (command === 'SendMessageCommand' && Math.random() < failures) throw throttled();
      const result = await next(args);
      if (command === 'PutEventsCommand') {
        const output = result.output as PutEventsCommandOutput;
        for (const entry of output.Entries ?? []) {
          if (entry.ErrorCode || Math.random() >= failures) continue;
          entry.ErrorCode = 'InternalFailure';
          entry.ErrorMessage = 'lost answer (injected)';
          delete entry.EventId;
          output.FailedEntryCount = (output.FailedEntryCount ?? 0) + 1;
        }
      }
      if (command === 'SendMessageCommand' || command === 'PutEventsCommand') countSent();
      return result;
    },
    // After the retry middleware (high in this step), before deserializing: inside the retries.
    { step: 'finalizeRequest', priority: 'low', name: 'eventboxSoakFaults' },
  );
}

for (const Sdk of [SQSClient, EventBridgeClient]) {
  const send = Sdk.prototype.send as (...args: unknown[]) => Promise<unknown>;
  Sdk.prototype.send = function (this: { middlewareStack: Stack }, ...args: unknown[]) {
    if (!faulty.has(this)) {
      faulty.add(this);
      addFaults(this.middlewareStack);
    }
    return send.apply(this, args);
  } as typeof Sdk.prototype.send;
}
