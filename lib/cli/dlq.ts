import { parseArgs } from 'node:util';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { letterEnvelope, reasonKind } from '../shared/dead-letters.js';
import { deploymentOf } from './deployment.js';
import { eventTimeOf, hiddenLetters, hiddenNote, read, sources } from './dlq-sources.js';
import { fields, table } from './format.js';
import type { CommandIo } from './io.js';
import {
  deleteLetters,
  type Letter,
  type LetterFilter,
  matches,
  redriveConsumerLetters,
  redriveRelayLetters,
  releaseLetters,
  rootsOf,
  versionOf,
} from './letters.js';
import { operatorClientConfig, stackResources, targetOptions } from './target.js';
import { CommandError, UsageError } from './usage-error.js';
import { inboxWindowOf, parseWindow } from './window.js';

export const dlqUsage = `eventbox dlq list [--queue NAME] [filters]
eventbox dlq show <message id> [--queue NAME]
eventbox dlq redrive [--queue NAME] [filters] [--dry-run] [--skip-unknown] [--force]

Reads the dead-letter queues of a deployment (the relay's and each consumer's), grouped by
reason and event type, root causes first (the letter each aggregate's later letters wait
behind, with how many); shows one letter whole; or sends letters on once their cause is
fixed: a relay letter's event to the bus (each aggregate's in version order), a consumer
letter's message back to its queue. A letter is deleted only after it is sent on; the
consumers' inbox makes a repeated or interrupted redrive harmless.

  --stack NAME        the deployed stack (or EVENTBOX_STACK)
  --queue NAME        "relay", or a consumer's name (default: every dead-letter queue)
  --reason TEXT       letters whose reason contains TEXT
  --type TYPE         letters of this event type
  --aggregate A       letters of this aggregate (Type#id, or the id)
  --tenant T          letters of this tenant
  --since, --until    letters dead-lettered in this window (ISO 8601)
  --dry-run           say what would be sent on; change nothing
  --skip-unknown      redrive even if the queue holds messages that are not Eventbox dead letters
  --force             redrive events older than the consumers' inbox remembers (they may apply
                      twice); without it such letters are set aside, kept, and the rest redriven
  --json              print one JSON object`;

const options = {
  ...targetOptions,
  queue: { type: 'string' },
  reason: { type: 'string' },
  type: { type: 'string' },
  aggregate: { type: 'string' },
  tenant: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  'skip-unknown': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
} as const;

export async function dlqCommand(args: readonly string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options });
  const [action, messageId] = positionals;
  if (!['list', 'show', 'redrive'].includes(action ?? ''))
    throw new UsageError(`dlq needs list, show or redrive; got ${action ?? 'nothing'}`);
  const window = parseWindow(values, { allowOpen: true });
  const filter: LetterFilter = {
    ...(values.reason ? { reason: values.reason } : {}),
    ...(values.type ? { type: values.type } : {}),
    ...(values.aggregate ? { aggregate: values.aggregate } : {}),
    ...(values.tenant ? { tenant: values.tenant } : {}),
    ...window,
  };
  const deployment = await deploymentOf(await stackResources(values));
  const from = sources(deployment, values.queue);
  const sqs = new SQSClient(operatorClientConfig());

  if (action === 'list' || action === 'show') {
    // Hidden only for the read; released at once, so consumers' redrives are not delayed.
    const hidden = await hiddenLetters(sqs, from);
    const letters = await read(sqs, from, 30);
    await Promise.all(
      from.map((s) =>
        releaseLetters(
          sqs,
          letters.filter((l) => l.queueUrl === s.queueUrl),
        ),
      ),
    );
    if (action === 'show') {
      if (!messageId) throw new UsageError('dlq show needs a message id');
      const letter = letters.find((l) => l.messageId === messageId);
      if (!letter)
        throw new CommandError(`no letter ${messageId} in ${from.map((s) => s.name).join(', ')}`);
      io.out(
        values.json
          ? JSON.stringify({
              source: letter.source,
              messageId,
              ...letter.summary,
              letter: letter.letter,
            })
          : `${fields([
              ['queue', letter.source],
              ['message', messageId],
              ['kind', letter.summary.kind],
              ['reason', letter.summary.reason],
              ['event', letter.summary.eventId],
              ['type', letter.summary.eventType],
              ['aggregate', letter.summary.aggregate],
              ['tenant', letter.summary.tenantId],
              ['dead-lettered', letter.summary.deadLetteredAt],
            ])}\n\n${JSON.stringify(letterEnvelope(letter.letter) ?? letter.letter, null, 2)}`,
      );
      return 0;
    }
    const selected = letters.filter((l) => matches(l.summary, filter));
    const groups = new Map<
      string,
      { source: string; reason: string; type: string; count: number }
    >();
    for (const l of selected) {
      const key = `${l.source}|${reasonKind(l.summary.reason)}|${l.summary.eventType ?? ''}`;
      const group = groups.get(key) ?? {
        source: l.source,
        reason: reasonKind(l.summary.reason),
        type: l.summary.eventType ?? '-',
        count: 0,
      };
      group.count++;
      groups.set(key, group);
    }
    const roots = rootsOf(selected).filter((r) => r.waiting > 0);
    if (values.json) {
      io.out(
        JSON.stringify({
          letters: selected.map((l) => ({
            source: l.source,
            messageId: l.messageId,
            ...l.summary,
          })),
          groups: [...groups.values()],
          hidden,
          roots: roots.map((r) => ({
            source: r.letter.source,
            messageId: r.letter.messageId,
            eventId: r.letter.summary.eventId,
            aggregate: r.letter.summary.aggregate,
            version: r.version,
            reason: r.letter.summary.reason,
            waiting: r.waiting,
          })),
        }),
      );
    } else {
      if (roots.length > 0) {
        io.out('Root causes: letters that later letters of their aggregate wait behind');
        io.out(
          table(
            ['QUEUE', 'WAITING', 'AGGREGATE', 'VERSION', 'MESSAGE', 'REASON'],
            roots.map((r) => [
              r.letter.source,
              String(r.waiting),
              r.letter.summary.aggregate ?? '-',
              String(r.version),
              r.letter.messageId,
              r.letter.summary.reason,
            ]),
          ),
        );
        io.out('');
      }
      io.out(
        table(
          ['QUEUE', 'COUNT', 'EVENT TYPE', 'REASON'],
          [...groups.values()].map((g) => [g.source, String(g.count), g.type, g.reason]),
        ),
      );
      io.out(
        `\n${selected.length} letter(s)${letters.length > selected.length ? ` of ${letters.length}` : ''}`,
      );
      if (hidden > 0) io.out(hiddenNote(hidden));
    }
    return 0;
  }

  // Redrive: every letter stays hidden while it is sent on, then is deleted or released.
  const hidden = await hiddenLetters(sqs, from);
  const letters = await read(sqs, from, 300);
  const selected = letters.filter((l) => matches(l.summary, filter));
  const deleted = new Set<Letter>();
  try {
    const unknown = selected.filter((l) => l.letter.kind === 'unknown');
    if (unknown.length > 0 && !values['skip-unknown']) {
      throw new CommandError(
        `${unknown.length} message(s) are not Eventbox dead letters (first: ${unknown[0]?.messageId} in ${unknown[0]?.source}); nothing redriven; --skip-unknown redrives the rest`,
      );
    }
    // A letter whose event the consumers may have forgotten is set aside, with why; the
    // rest go on. A relay letter's event reaches every consumer: the shortest window counts.
    const everyInbox = inboxWindowOf(deployment.consumers);
    const windowOf = (l: Letter) => {
      const consumer = deployment.consumers.find((c) => c.name === l.summary.consumer);
      return consumer ? inboxWindowOf([consumer]) : everyInbox;
    };
    const tooOld = values.force
      ? []
      : selected.flatMap((l) => {
          if (l.letter.kind === 'lambda.on-failure' || l.letter.kind === 'unknown') return [];
          const time = eventTimeOf(l);
          const window = windowOf(l);
          if (time !== undefined && Date.now() - time <= window.seconds * 1000) return [];
          return [
            {
              letter: l,
              reason:
                time === undefined
                  ? "its event's time is unknown (a record too large to keep whole), so it may be older than the consumers' inbox remembers; --force sends it anyway"
                  : `its event (${new Date(time).toISOString()}) is older than the consumers' inbox remembers (${window.seconds / 86_400} days${window.known ? '' : ', the default'}): it could apply twice; --force sends it anyway`,
            },
          ];
        });
    // Later letters of a set-aside letter's aggregate would only wait for it: they stay too.
    const aggregateOf = (l: Letter) => `${l.summary.consumer}|${l.summary.aggregate}`;
    const tooOldLetters = new Set(tooOld.map((a) => a.letter));
    const heldBack = new Map<string, Letter>();
    for (const { letter } of tooOld) {
      const lowest = heldBack.get(aggregateOf(letter));
      if (!lowest || versionOf(letter) < versionOf(lowest))
        heldBack.set(aggregateOf(letter), letter);
    }
    const behind = selected.flatMap((l) => {
      const root = l.summary.aggregate ? heldBack.get(aggregateOf(l)) : undefined;
      if (!root || tooOldLetters.has(l) || versionOf(l) <= versionOf(root)) return [];
      return [{ letter: l, reason: `it waits behind ${root.messageId}, which is set aside` }];
    });
    const setAside = [...tooOld, ...behind];
    const kept = new Set(setAside.map((a) => a.letter));
    const going = selected.filter((l) => !kept.has(l));
    const relay = going.filter((l) => l.letter.kind === 'eventbox.relay.dead-letter');
    const consumer = going.filter(
      (l) =>
        l.letter.kind === 'eventbox.consumer.dead-letter' ||
        l.letter.kind === 'eventbridge.undelivered',
    );
    const gaveUp = going.filter((l) => l.letter.kind === 'lambda.on-failure');
    const hint =
      gaveUp.length > 0
        ? `; ${gaveUp.length} batch(es) the relay's event source gave up on hold no events: recover them with eventbox outbox replay`
        : '';
    if (values['dry-run']) {
      io.out(
        values.json
          ? JSON.stringify({
              dryRun: true,
              relay: relay.length,
              consumer: consumer.length,
              gaveUp: gaveUp.length,
              setAside: setAside.map((a) => ({ messageId: a.letter.messageId, reason: a.reason })),
              hidden,
            })
          : [
              `would redrive ${relay.length} relay and ${consumer.length} consumer letter(s)${hint}`,
              ...setAside.map((a) => `  would set aside: ${a.letter.messageId}: ${a.reason}`),
              ...(hidden > 0 ? [hiddenNote(hidden)] : []),
            ].join('\n'),
      );
      return 0;
    }
    const busOf = (l: Letter) =>
      deployment.relays.find((r) => r.deadLetterQueueUrl === l.queueUrl)?.eventBusName ?? '';
    const results = await Promise.all([
      ...[...new Set(relay.map(busOf))].map((bus) =>
        redriveRelayLetters(
          relay.filter((l) => busOf(l) === bus),
          { eventBridge: new EventBridgeClient(operatorClientConfig()), eventBusName: bus },
        ),
      ),
      redriveConsumerLetters(consumer, {
        sqs,
        queueUrlOf: (name) => deployment.consumers.find((c) => c.name === name)?.queueUrl,
      }),
    ]);
    const sent = results.flatMap((r) => r.sent);
    const failed = results.flatMap((r) => r.failed);
    const deletes = await Promise.all(
      from.map((s) =>
        deleteLetters(
          sqs,
          sent.filter((l) => l.queueUrl === s.queueUrl),
        ),
      ),
    );
    // Sent and still there: the next redrive sends them again, which consumers absorb.
    const undeleted = deletes.flatMap((d) => d.failed);
    for (const l of deletes.flatMap((d) => d.deleted)) deleted.add(l);
    if (values.json) {
      io.out(
        JSON.stringify({
          redriven: sent.map((l) => ({
            messageId: l.messageId,
            eventId: l.summary.eventId,
            kind: l.letter.kind,
          })),
          failed: failed.map((f) => ({ messageId: f.letter.messageId, reason: f.reason })),
          notDeleted: undeleted.map((f) => ({ messageId: f.letter.messageId, reason: f.reason })),
          setAside: setAside.map((a) => ({ messageId: a.letter.messageId, reason: a.reason })),
          gaveUp: gaveUp.length,
          hidden,
        }),
      );
    } else {
      const events = sent.filter((l) => l.letter.kind === 'eventbox.relay.dead-letter').length;
      io.out(
        `redrove ${sent.length} letter(s): ${events} event(s) to the bus, ${sent.length - events} message(s) to their consumers${hint}`,
      );
      for (const f of failed) io.out(`  not sent, kept: ${f.letter.messageId}: ${f.reason}`);
      for (const a of setAside) io.out(`  set aside, kept: ${a.letter.messageId}: ${a.reason}`);
      for (const f of undeleted)
        io.out(
          `  sent, but not deleted (a next redrive sends it again; consumers absorb it): ${f.letter.messageId}: ${f.reason}`,
        );
      if (hidden > 0) io.out(hiddenNote(hidden));
    }
    return failed.length > 0 || undeleted.length > 0 ? 1 : 0;
  } finally {
    // Whatever was not sent on is visible again at once, for the next redrive or the alarm.
    const kept = letters.filter((l) => !deleted.has(l));
    await Promise.all(
      from.map((s) =>
        releaseLetters(
          sqs,
          kept.filter((l) => l.queueUrl === s.queueUrl),
        ),
      ),
    );
  }
}
