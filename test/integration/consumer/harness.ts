import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { handleUserScoreEvent } from '../../../functions/example/user-score/handler.js';
import type { EventEnvelope, InboxEngine, InboxMessage } from '../../../lib/consumer/index.js';
import { sqsMessage } from '../../helpers/inbox.js';

/**
 * Plays the network: delivers messages in a given order; a message that is not done
 * ("not yet") goes back to the end of the queue with its receive count
 * increased, as SQS would redeliver it after its visibility timeout.
 */
export async function deliver(
  engine: InboxEngine,
  deliveries: readonly EventEnvelope[],
  maxSteps = 200,
) {
  const queue: InboxMessage[] = deliveries.map((event) => sqsMessage(event));
  const outcomes: string[] = [];
  let steps = 0;
  while (queue.length > 0) {
    if (++steps > maxSteps)
      throw new Error(`no progress after ${maxSteps} deliveries: ${outcomes.join(', ')}`);
    const message = queue.shift() as InboxMessage;
    const outcome = await engine.process(message, handleUserScoreEvent);
    outcomes.push(outcome.status);
    if (outcome.status === 'dead-letter') throw new Error(`dead-lettered: ${outcome.reason}`);
    if (outcome.status === 'failed') throw outcome.error;
    // One delivery at a time races nothing: a conflict would mean the order under test
    // is not the order that ran.
    if (outcome.status === 'retry' && outcome.kind === 'conflict')
      throw new Error(`a conflict in a sequential delivery: ${outcome.reason}`);
    if (outcome.status === 'retry')
      queue.push({ ...message, receiveCount: message.receiveCount + 1 });
  }
  return outcomes;
}

/**
 * Delivers every message at once, then again at once whatever must come back, until
 * nothing is left: concurrent deliveries as a queue with many pollers produces them.
 */
export async function deliverAtOnce(
  engine: InboxEngine,
  deliveries: readonly EventEnvelope[],
  maxRounds = 50,
) {
  let pending: InboxMessage[] = deliveries.map((event) => sqsMessage(event));
  for (let round = 0; pending.length > 0; round++) {
    if (round >= maxRounds) throw new Error(`no progress after ${maxRounds} rounds`);
    const outcomes = await Promise.all(
      pending.map((message) => engine.process(message, handleUserScoreEvent)),
    );
    const next: InboxMessage[] = [];
    outcomes.forEach((outcome, i) => {
      const message = pending[i] as InboxMessage;
      if (outcome.status === 'dead-letter') throw new Error(`dead-lettered: ${outcome.reason}`);
      if (outcome.status === 'failed') throw outcome.error;
      if (outcome.status === 'retry')
        next.push({ ...message, receiveCount: message.receiveCount + 1 });
    });
    pending = next;
  }
}

/** The case's items, keyed `pk|sk`, with the run's namespace replaced so runs compare. */
export async function stateOf(
  engine: InboxEngine,
  tableName: string,
  partitions: readonly string[],
  ns: string,
) {
  const state: Record<string, Record<string, unknown>> = {};
  for (const pk of partitions) {
    const { Items = [] } = await engine.client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
      }),
    );
    for (const item of Items) {
      const normalized = JSON.parse(JSON.stringify(item).replaceAll(ns, 'NS'));
      state[`${normalized.pk}|${normalized.sk}`] = normalized;
    }
  }
  return state;
}
