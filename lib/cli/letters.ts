import { type AttributeValue, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DynamoDBRecord } from 'aws-lambda';
import { RelayDefaults } from '../relay/options.js';
import { publishRecords } from '../relay/publisher.js';
import { operatorPublishing } from '../relay/replay.js';
import { classifyRecord, type PublishableRecord } from '../relay/stream-records.js';
import {
  type LetterSummary,
  letterEnvelope,
  type ParsedDeadLetter,
  parseDeadLetter,
  summarizeLetter,
} from '../shared/dead-letters.js';
import { operatorClientConfig } from './target.js';

/** A dead letter as received from its queue. */
export interface Letter {
  readonly queueUrl: string;
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly letter: ParsedDeadLetter;
  readonly summary: LetterSummary;
}

/** What `--reason`, `--type`, `--aggregate`, `--tenant`, `--since` and `--until` select. */
export interface LetterFilter {
  readonly reason?: string;
  readonly type?: string;
  readonly aggregate?: string;
  readonly tenant?: string;
  readonly since?: Date;
  readonly until?: Date;
}

export function matches(summary: LetterSummary, filter: LetterFilter): boolean {
  const at = summary.deadLetteredAt ? Date.parse(summary.deadLetteredAt) : undefined;
  return (
    (filter.reason === undefined || summary.reason.includes(filter.reason)) &&
    (filter.type === undefined || summary.eventType === filter.type) &&
    (filter.aggregate === undefined ||
      summary.aggregate === filter.aggregate ||
      summary.aggregate?.endsWith(`#${filter.aggregate}`) === true) &&
    (filter.tenant === undefined || summary.tenantId === filter.tenant) &&
    (filter.since === undefined || (at !== undefined && at >= filter.since.getTime())) &&
    (filter.until === undefined || (at !== undefined && at < filter.until.getTime()))
  );
}

/**
 * Receives every letter of a queue and keeps them hidden for `hideSeconds`, so that the
 * caller can send them on and delete them, or release them; each receive counts. Receives
 * long-poll, which asks every SQS server (a short poll samples some), and the reading ends
 * when one finds nothing new. A letter received again keeps its newest receipt handle,
 * the only one SQS deletes with.
 */
export async function receiveLetters(
  sqs: SQSClient,
  queueUrl: string,
  hideSeconds = 300,
): Promise<Letter[]> {
  const letters = new Map<string, Letter>();
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: hideSeconds,
        WaitTimeSeconds: 1,
        // EventBridge writes why it could not deliver an event in these, not in the body.
        MessageAttributeNames: ['All'],
      }),
    );
    let fresh = 0;
    for (const m of Messages) {
      const messageId = m.MessageId ?? '';
      const seen = letters.get(messageId);
      if (seen) {
        letters.set(messageId, { ...seen, receiptHandle: m.ReceiptHandle ?? seen.receiptHandle });
        continue;
      }
      fresh++;
      const letter = parseDeadLetter(m.Body ?? '', m.MessageAttributes ?? {});
      letters.set(messageId, {
        queueUrl,
        messageId,
        receiptHandle: m.ReceiptHandle ?? '',
        letter,
        summary: summarizeLetter(letter),
      });
    }
    if (fresh === 0) break;
  }
  return [...letters.values()];
}

async function inBatches(
  letters: readonly Letter[],
  send: (batch: readonly Letter[]) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < letters.length; i += 10) await send(letters.slice(i, i + 10));
}

/** Makes letters visible again at once: the ones not sent on. */
export async function releaseLetters(sqs: SQSClient, letters: readonly Letter[]): Promise<void> {
  await inBatches(letters, (batch) =>
    sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: batch[0]?.queueUrl,
        Entries: batch.map((l, i) => ({
          Id: String(i),
          ReceiptHandle: l.receiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    ),
  );
}

/** What a delete did: the letters gone, and those SQS kept, with why. */
export interface DeleteResult {
  readonly deleted: readonly Letter[];
  readonly failed: ReadonlyArray<{ readonly letter: Letter; readonly reason: string }>;
}

/**
 * Deletes letters: only once what they held is safely sent on. Every batch is tried; an
 * entry SQS refuses, or a batch whose call fails, is reported as not deleted.
 */
export async function deleteLetters(
  sqs: SQSClient,
  letters: readonly Letter[],
): Promise<DeleteResult> {
  const deleted: Letter[] = [];
  const failed: Array<{ letter: Letter; reason: string }> = [];
  await inBatches(letters, async (batch) => {
    try {
      const { Failed = [] } = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: batch[0]?.queueUrl,
          Entries: batch.map((l, i) => ({ Id: String(i), ReceiptHandle: l.receiptHandle })),
        }),
      );
      const refused = new Map(Failed.map((f) => [f.Id, `${f.Code}: ${f.Message ?? ''}`]));
      batch.forEach((letter, i) => {
        const reason = refused.get(String(i));
        if (reason === undefined) deleted.push(letter);
        else failed.push({ letter, reason });
      });
    } catch (error) {
      for (const letter of batch) failed.push({ letter, reason: (error as Error).message });
    }
  });
  return { deleted, failed };
}

/** The stream record a relay letter holds, or, when it held only keys, the item read again. */
async function recordOf(
  letter: ParsedDeadLetter & { kind: 'eventbox.relay.dead-letter' },
  ddb: DynamoDBClient,
) {
  const record = letter.record as DynamoDBRecord;
  if (!letter.recordTruncated) return record;
  const tableName = letter.eventSourceArn?.split(':table/')[1]?.split('/stream/')[0];
  const keys = record.dynamodb?.Keys as Record<string, AttributeValue> | undefined;
  if (!tableName || !keys) return record;
  const { Item } = await ddb.send(
    new GetItemCommand({ TableName: tableName, Key: keys, ConsistentRead: true }),
  );
  return { ...record, dynamodb: { ...record.dynamodb, NewImage: Item as never } } as DynamoDBRecord;
}

export interface RedriveResult {
  readonly sent: readonly Letter[];
  readonly failed: ReadonlyArray<{ readonly letter: Letter; readonly reason: string }>;
}

/**
 * Publishes relay letters' events to the bus, each aggregate's in version order, with the
 * relay's publisher; a letter whose event is published is returned as sent.
 */
export async function redriveRelayLetters(
  letters: readonly Letter[],
  options: {
    readonly eventBridge: EventBridgeClient;
    readonly eventBusName: string;
    readonly ddb?: DynamoDBClient;
  },
): Promise<RedriveResult> {
  const ddb = options.ddb ?? new DynamoDBClient(operatorClientConfig());
  const failed: Array<{ letter: Letter; reason: string }> = [];
  const candidates: Array<{ letter: Letter; record: PublishableRecord }> = [];
  const records = await Promise.all(
    letters.map(async (l) => ({
      letter: l,
      record: await recordOf(
        l.letter as ParsedDeadLetter & { kind: 'eventbox.relay.dead-letter' },
        ddb,
      ),
    })),
  );
  records.sort(
    (a, b) =>
      Number(a.record.dynamodb?.NewImage?.aggregateVersion?.N ?? 0) -
        Number(b.record.dynamodb?.NewImage?.aggregateVersion?.N ?? 0) ||
      String(a.record.dynamodb?.SequenceNumber).localeCompare(
        String(b.record.dynamodb?.SequenceNumber),
      ),
  );
  records.forEach(({ letter, record }, index) => {
    const classified = classifyRecord(record, index, {
      eventBusName: options.eventBusName,
      maxEntryBytes: RelayDefaults.maxEntryBytes,
    });
    if (classified.kind === 'publishable') candidates.push({ letter, record: classified });
    else
      failed.push({
        letter,
        reason: classified.kind === 'poison' ? classified.reason : 'not an outbox insert',
      });
  });
  const published = new Set<number>();
  await publishRecords(
    candidates.map((c) => c.record),
    [],
    {
      ...operatorPublishing(options.eventBridge),
      deadLetter: async (rejected) => {
        for (const r of rejected) {
          const c = candidates.find((x) => x.record.index === r.record.index);
          if (c) failed.push({ letter: c.letter, reason: r.reason });
        }
        // They stay in the dead-letter queue: nothing more to store.
        return rejected.map(() => true);
      },
      observer: {
        onPublished: (recs) => {
          for (const r of recs) published.add(r.index);
        },
      },
    },
  );
  for (const c of candidates)
    if (!published.has(c.record.index) && !failed.some((f) => f.letter === c.letter))
      failed.push({ letter: c.letter, reason: 'EventBridge did not accept it; try again' });
  return {
    sent: candidates.filter((c) => published.has(c.record.index)).map((c) => c.letter),
    failed,
  };
}

/** The aggregate version a letter's event produced, if it says. */
export function versionOf(letter: Letter): number {
  const envelope = letterEnvelope(letter.letter) as
    | { aggregate?: { version?: unknown } }
    | undefined;
  const version = Number(envelope?.aggregate?.version);
  return Number.isFinite(version) ? version : 0;
}

/**
 * Consumer letters in the order to send them: per consumer and aggregate, in version order,
 * so that a successor is sent after what it waits for. Letters holding the same event for
 * the same consumer (dead-lettered twice, say once from a replay) are sent once: the
 * others are `copies`, of `sent` once that one is.
 */
export function consumerRedriveOrder(letters: readonly Letter[]): {
  readonly toSend: readonly Letter[];
  readonly copies: ReadonlyMap<Letter, Letter>;
} {
  const firstOf = new Map<string, Letter>();
  const copies = new Map<Letter, Letter>();
  const ordered = [...letters].sort(
    (a, b) =>
      String(a.summary.consumer).localeCompare(String(b.summary.consumer)) ||
      String(a.summary.aggregate).localeCompare(String(b.summary.aggregate)) ||
      versionOf(a) - versionOf(b) ||
      String(a.summary.deadLetteredAt).localeCompare(String(b.summary.deadLetteredAt)),
  );
  const toSend: Letter[] = [];
  for (const letter of ordered) {
    const key = letter.summary.eventId
      ? `${letter.summary.consumer}|${letter.summary.eventId}`
      : undefined;
    const first = key ? firstOf.get(key) : undefined;
    if (first) copies.set(letter, first);
    else {
      if (key) firstOf.set(key, letter);
      toSend.push(letter);
    }
  }
  return { toSend, copies };
}

/**
 * Returns consumer letters' original messages, and events EventBridge could not deliver,
 * to the consumers' queues (`summary.consumer`), each aggregate's in version order and each
 * event once; a copy counts as sent once its event is.
 */
export async function redriveConsumerLetters(
  letters: readonly Letter[],
  options: {
    readonly sqs: SQSClient;
    readonly queueUrlOf: (consumer: string) => string | undefined;
  },
): Promise<RedriveResult> {
  const sent: Letter[] = [];
  const failed: Array<{ letter: Letter; reason: string }> = [];
  const { toSend, copies } = consumerRedriveOrder(letters);
  for (const l of toSend) {
    // A consumer's own letter, or an event EventBridge could not deliver to its queue.
    const letter = l.letter as ParsedDeadLetter & {
      kind: 'eventbox.consumer.dead-letter' | 'eventbridge.undelivered';
    };
    const consumer = l.summary.consumer ?? '';
    const queueUrl = options.queueUrlOf(consumer);
    if (!queueUrl) {
      failed.push({ letter: l, reason: `no queue of consumer ${consumer || '(unknown)'}` });
      continue;
    }
    try {
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: typeof letter.body === 'string' ? letter.body : JSON.stringify(letter.body),
        }),
      );
      sent.push(l);
    } catch (error) {
      failed.push({ letter: l, reason: (error as Error).message });
    }
  }
  const sentOnce = new Set(sent);
  for (const [copy, of] of copies) {
    if (sentOnce.has(of)) sent.push(copy);
    else failed.push({ letter: copy, reason: `a copy of ${of.messageId}, which was not sent` });
  }
  return { sent, failed };
}

/** A letter that others of its aggregate wait behind, and how many. */
export interface RootLetter<L extends Letter = Letter> {
  readonly letter: L;
  readonly version: number;
  /** Letters of the same consumer and aggregate at later versions. */
  readonly waiting: number;
}

/**
 * Which letters wait on which: per consumer (or the relay) and aggregate, the letter of
 * the lowest version is the root, and every later one waits behind it (a successor
 * answered "not yet" because its predecessor is here too). Roots with the most waiting
 * come first; a letter alone on its aggregate is a root with none waiting.
 */
export function rootsOf<L extends Letter & { readonly source?: string }>(
  letters: readonly L[],
): Array<RootLetter<L>> {
  const byAggregate = new Map<string, L[]>();
  for (const l of letters) {
    if (!l.summary.aggregate) continue;
    const key = `${l.source ?? l.queueUrl}|${l.summary.consumer ?? ''}|${l.summary.aggregate}`;
    const group = byAggregate.get(key);
    if (group) group.push(l);
    else byAggregate.set(key, [l]);
  }
  const roots = [...byAggregate.values()].map((group) => {
    const root = group.reduce((low, l) => (versionOf(l) < versionOf(low) ? l : low));
    const version = versionOf(root);
    const events = new Set(
      group.filter((l) => versionOf(l) > version).map((l) => l.summary.eventId ?? l.messageId),
    );
    return { letter: root, version, waiting: events.size };
  });
  return roots.sort((a, b) => b.waiting - a.waiting);
}
