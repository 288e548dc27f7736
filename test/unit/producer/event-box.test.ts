import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { EventBox } from '../../../lib/producer/event-box.js';
import { InvalidOptionsError } from '../../../lib/shared/errors.js';

describe('Class: EventBox', () => {
  describe('Method: constructor', () => {
    it('fills the documented defaults', () => {
      const box = new EventBox({
        tableName: 'orders',
        source: 'orders',
        clientConfig: { region: 'us-east-1' },
      });

      expect(box.settings).toMatchObject({
        layout: {
          tableName: 'orders',
          partitionKey: 'pk',
          sortKey: 'sk',
          versionAttribute: 'version',
        },
        outbox: { layout: { tableName: 'orders' }, ttlSeconds: 604_800, ttlAttribute: 'ttl' },
        source: 'orders',
        maxEventBytes: 1_048_576,
      });
    });

    it('wraps a plain client in a document client and keeps a document client as it is', () => {
      const plain = new DynamoDBClient({ region: 'us-east-1' });
      const document = DynamoDBDocumentClient.from(plain);

      expect(new EventBox({ tableName: 't', source: 's', client: plain }).client).toBeInstanceOf(
        DynamoDBDocumentClient,
      );
      expect(new EventBox({ tableName: 't', source: 's', client: document }).client).toBe(document);
    });

    it.each([
      ['an empty table name', { tableName: '', source: 's' }, 'tableName: must not be empty'],
      [
        'a reserved source',
        { tableName: 't', source: 'aws.orders' },
        'source: must not start with "aws."',
      ],
      ['an unknown option', { tableName: 't', source: 's', tabelName: 'x' }, 'tabelName'],
      [
        'a too small event limit',
        { tableName: 't', source: 's', maxEventBytes: 1000 },
        'maxEventBytes: must be at least 262144',
      ],
      [
        'a too large event limit',
        { tableName: 't', source: 's', maxEventBytes: 2_000_000 },
        'maxEventBytes: must be at most 1048576',
      ],
      [
        'a TTL under a minute',
        { tableName: 't', source: 's', outbox: { ttlSeconds: 5 } },
        'outbox.ttlSeconds: must be at least 60',
      ],
      [
        'a TTL past what a DynamoDB number holds exactly',
        { tableName: 't', source: 's', outbox: { ttlSeconds: 2 ** 60 } },
        'outbox.ttlSeconds: must be a safe integer',
      ],
      [
        'a fractional TTL',
        { tableName: 't', source: 's', outbox: { ttlSeconds: 90.5 } },
        'outbox.ttlSeconds: must be an integer',
      ],
      [
        'both client and clientConfig',
        { tableName: 't', source: 's', client: new DynamoDBClient({}), clientConfig: {} },
        'either client or clientConfig',
      ],
    ])('rejects %s', (_, options, problem) => {
      expect(() => new EventBox(options as never)).toThrow(InvalidOptionsError);
      expect(() => new EventBox(options as never)).toThrow(problem);
    });
  });

  describe('Method: transaction', () => {
    it('gives independent transactions with their own request tokens', () => {
      const box = new EventBox({
        tableName: 'orders',
        source: 'orders',
        clientConfig: { region: 'us-east-1' },
      });

      const a = box.transaction().put({ pk: 'A', sk: 'A' });
      const b = box.transaction();

      expect(b.params().TransactItems).toStrictEqual([]);
      expect(a.clientRequestToken).not.toBe(b.clientRequestToken);
    });
  });
});
