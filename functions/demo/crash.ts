import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CRASH_RECORD_PREFIX, type FaultConfig } from './config.js';

/**
 * A DynamoDB client whose process dies just before or just after one of its
 * TransactWriteItems, as a process killed mid-flight would, when armed. Before dying it
 * records, in `tableName`, the ids (from `idOf`) of every transaction this process
 * committed or had in flight: a dying worker's log lines may never arrive, and the soak
 * must still account for each application.
 */
export function crashingClient(tableName: string, idOf: (input: unknown) => string | undefined) {
  const client = new DynamoDBClient({});
  const recorder = new DynamoDBClient({});
  const seen = new Set<string>();
  let armed: 'before' | 'after' | undefined;
  let dying = false;

  const die = async (): Promise<never> => {
    // A killed process sends nothing more: other messages of the batch stop here too.
    dying = true;
    const ids = [...seen];
    for (let i = 0; i < ids.length; i += 25) {
      await recorder.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [tableName]: ids.slice(i, i + 25).map((id) => ({
              PutRequest: {
                Item: { pk: { S: `${CRASH_RECORD_PREFIX}${id}` }, sk: { S: 'CRASH' } },
              },
            })),
          },
        }),
      );
    }
    process.exit(137);
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (dying) return new Promise<never>(() => {});
      if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
      const id = idOf(args.input);
      if (id) seen.add(id);
      const when = armed;
      armed = undefined;
      if (when === 'before') return die();
      const result = await next(args);
      if (when === 'after') return die();
      return result;
    },
    { step: 'initialize', name: 'crashFaults' },
  );

  return {
    client,
    /** Arms a crash for the next transaction of this invocation, at the configured rates. */
    arm(faults: FaultConfig['consumer'], random: () => number = Math.random): void {
      const roll = random();
      armed =
        roll < faults.crashBeforeCommit
          ? 'before'
          : roll < faults.crashBeforeCommit + faults.crashAfterCommit
            ? 'after'
            : undefined;
    },
    disarm(): void {
      armed = undefined;
    },
  };
}

/** The event id of a consumer transaction's inbox record, its first action. */
export function inboxEventId(input: unknown): string | undefined {
  const first = (input as { TransactItems?: Array<{ Put?: { Item?: Record<string, unknown> } }> })
    .TransactItems?.[0]?.Put?.Item?.eventId;
  if (typeof first === 'string') return first;
  return (first as { S?: string } | undefined)?.S;
}
