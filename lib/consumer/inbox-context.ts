import type { Logger } from '@aws-lambda-powertools/logger';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Item, Key } from '../transaction/actions.js';
import type { ConsumerTransaction } from './consumer-transaction.js';
import { NotYetError } from './errors.js';
import type { Attempt } from './inbox-modes.js';

/** What a handler gets besides the event. */
export interface InboxContext {
  /** The unit of work, committed with the inbox record after the handler returns. */
  readonly tx: ConsumerTransaction;
  readonly consumerName: string;
  /** 1 on the first delivery of this message, then 2, 3, ... */
  readonly attempt: number;
  readonly messageId: string;
  /** For reads; writes go through `tx`. */
  readonly client: DynamoDBDocumentClient;
  readonly logger: Logger;
  /**
   * A consistent read of one item of the consumer's table (or `tableName`). Type the item
   * you expect: `await ctx.get<Stock>(key)`; nothing checks it at run time.
   */
  get<TItem extends Item = Item>(
    key: Key,
    options?: { readonly tableName?: string },
  ): Promise<TItem | undefined>;
  /** Ends the handler: a causal predecessor is missing; the message returns later. */
  notYet(reason: string): never;
}

/** The handler's second argument, for one attempt of a consumer over `tableName`. */
export function inboxContext(
  consumer: {
    readonly client: DynamoDBDocumentClient;
    readonly logger: Logger;
    readonly consumerName: string;
  },
  attempt: Attempt,
  tableName: string,
): InboxContext {
  const { client, logger, consumerName } = consumer;
  return {
    tx: attempt.tx,
    consumerName,
    attempt: attempt.message.receiveCount,
    messageId: attempt.message.messageId,
    client,
    logger,
    async get<TItem extends Item = Item>(
      key: Key,
      options: { readonly tableName?: string } = {},
    ): Promise<TItem | undefined> {
      const { Item } = await client.send(
        new GetCommand({
          TableName: options.tableName ?? tableName,
          Key: key,
          ConsistentRead: true,
        }),
      );
      return Item as TItem | undefined;
    },
    notYet(reason: string): never {
      throw new NotYetError(reason);
    },
  };
}
