/**
 * Loaded into an `eventbox` process (`node --import`) by the soak's repair phase: the
 * process kills itself, as a lost terminal or an out-of-memory kill would, right after
 * its Nth event sent on (EVENTBOX_SOAK_KILL_AFTER_SENDS), before it deletes any letter.
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';

const limit = Number(process.env.EVENTBOX_SOAK_KILL_AFTER_SENDS ?? 0);
let sent = 0;

for (const Client of [SQSClient, EventBridgeClient]) {
  const send = Client.prototype.send as (...args: unknown[]) => Promise<unknown>;
  Client.prototype.send = async function (this: unknown, ...args: unknown[]) {
    const result = await send.apply(this, args);
    const name = (args[0] as { constructor: { name: string } }).constructor.name;
    if (limit > 0 && (name === 'SendMessageCommand' || name === 'PutEventsCommand')) {
      sent++;
      if (sent >= limit) process.kill(process.pid, 'SIGKILL');
    }
    return result;
  } as typeof Client.prototype.send;
}
