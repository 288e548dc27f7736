import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Stand-ins for the services outside DynamoDB a fulfilment job calls: a payment API and
 * an email and SMS gateway. Like real ones, they deduplicate on the idempotency key the
 * caller passes, so a call repeated after a crash charges or sends once. Each keeps a
 * count of the calls it got, which shows the at-least-once side.
 */
export class ExternalServices {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  /** Charges once per idempotency key; returns the charge's id. */
  async charge(amount: number, idempotencyKey: string): Promise<string> {
    await this.#call('charge');
    await this.#once(`CHARGE#${idempotencyKey}`, { amount });
    return `ch_${idempotencyKey}`;
  }

  /** Sends once per idempotency key. */
  async send(channel: 'email' | 'sms', to: string, idempotencyKey: string): Promise<void> {
    await this.#call(channel);
    await this.#once(`NOTIFICATION#${idempotencyKey}`, { channel, to });
  }

  async #call(kind: string): Promise<void> {
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: { pk: `CALLS#${kind}`, sk: 'CALLS' },
        UpdateExpression: 'ADD #n :one',
        ExpressionAttributeNames: { '#n': 'count' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  async #once(pk: string, attributes: Record<string, unknown>): Promise<void> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { pk, sk: 'ONCE', ...attributes, at: new Date().toISOString() },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}
