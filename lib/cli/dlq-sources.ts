import type { SQSClient } from '@aws-sdk/client-sqs';
import { letterEnvelope } from '../shared/dead-letters.js';
import type { Deployment } from './deployment.js';
import type { Letter } from './letters.js';
import { receiveLetters } from './letters.js';
import { queueDepth } from './queue-depth.js';
import { CommandError } from './usage-error.js';

/** The dead-letter queues `eventbox dlq` reads: the relays' and the consumers', and what they hold. */

export interface Source {
  readonly name: string;
  readonly queueUrl: string;
  /** The consumer whose dead-letter queue this is. */
  readonly consumer?: string;
}

export function sources(deployment: Deployment, queue: string | undefined): Source[] {
  const all: Source[] = [
    ...deployment.relays.map((r, i) => ({
      name: deployment.relays.length > 1 && i > 0 ? `relay:${r.name}` : 'relay',
      queueUrl: r.deadLetterQueueUrl,
    })),
    ...deployment.consumers.map((c) => ({
      name: c.name,
      queueUrl: c.deadLetterQueueUrl,
      consumer: c.name,
    })),
  ];
  if (queue === undefined) return all;
  const chosen = all.filter((s) => s.name === queue);
  if (chosen.length === 0)
    throw new CommandError(
      `no dead-letter queue "${queue}"; the stack has ${all.map((s) => s.name).join(', ')}`,
    );
  return chosen;
}

export async function read(sqs: SQSClient, from: readonly Source[], hideSeconds: number) {
  const letters: Array<Letter & { source: string }> = [];
  for (const source of from) {
    for (const letter of await receiveLetters(sqs, source.queueUrl, hideSeconds)) {
      // An event EventBridge could not deliver is the consumer's whose queue holds it.
      const consumer = letter.summary.consumer ?? source.consumer;
      letters.push({
        ...letter,
        source: source.name,
        ...(consumer ? { summary: { ...letter.summary, consumer } } : {}),
      });
    }
  }
  return letters;
}

/**
 * Letters in flight before this command reads: another `dlq` command holds them, or one
 * that stopped before it released them (they come back when its hide ends).
 */
export async function hiddenLetters(sqs: SQSClient, from: readonly Source[]): Promise<number> {
  const depths = await Promise.all(from.map((s) => queueDepth(sqs, s.queueUrl)));
  return depths.reduce((sum, d) => sum + d.inFlight, 0);
}

export const hiddenNote = (hidden: number) =>
  `${hidden} letter(s) are in flight elsewhere (another dlq command, or one that stopped before it let them go): they come back within 5 minutes; run again then`;

/** When a letter's event was created (ms), from its envelope or its stream record. */
export function eventTimeOf(l: Letter): number | undefined {
  const envelope = letterEnvelope(l.letter) as { time?: string } | undefined;
  if (envelope?.time !== undefined) {
    const time = Date.parse(envelope.time);
    if (!Number.isNaN(time)) return time;
  }
  if (l.letter.kind === 'eventbox.relay.dead-letter') {
    const created = (l.letter.record as { dynamodb?: { ApproximateCreationDateTime?: number } })
      ?.dynamodb?.ApproximateCreationDateTime;
    if (typeof created === 'number') return created * 1000;
  }
  return undefined;
}
