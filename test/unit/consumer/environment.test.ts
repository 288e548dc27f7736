import { describe, expect, it } from 'vitest';
import { inboxOptionsFromEnvironment } from '../../../lib/consumer/index.js';
import { InvalidOptionsError } from '../../../lib/shared/errors.js';

describe('Function: inboxOptionsFromEnvironment', () => {
  it('reads what the EventBoxConsumer construct sets', () => {
    const options = inboxOptionsFromEnvironment({
      EVENTBOX_TABLE_NAME: 'scores',
      EVENTBOX_CONSUMER_NAME: 'user-score',
      EVENTBOX_DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
      EVENTBOX_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/scores',
      EVENTBOX_MAX_RECEIVE_COUNT: '16',
      EVENTBOX_NOT_YET_MAX_ATTEMPTS: '6',
      EVENTBOX_NOT_YET_BACKOFF_BASE_SECONDS: '1',
      EVENTBOX_NOT_YET_BACKOFF_CAP_SECONDS: '30',
    });

    expect(options).toStrictEqual({
      tableName: 'scores',
      consumerName: 'user-score',
      deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/scores',
      maxReceiveCount: 16,
      notYet: { maxAttempts: 6, backoff: { baseSeconds: 1, capSeconds: 30 } },
    });
  });

  it('refuses publishing when the construct says no relay reads the table', () => {
    const env = { EVENTBOX_TABLE_NAME: 't', EVENTBOX_CONSUMER_NAME: 'c' };

    expect(inboxOptionsFromEnvironment({ ...env, EVENTBOX_OUTBOX_RELAYED: 'false' })).toMatchObject(
      {
        outbox: false,
      },
    );
    expect(
      inboxOptionsFromEnvironment({ ...env, EVENTBOX_OUTBOX_RELAYED: 'true' }),
    ).not.toHaveProperty('outbox');
  });

  it('names every missing variable', () => {
    expect(() => inboxOptionsFromEnvironment({})).toThrow(InvalidOptionsError);
    expect(() => inboxOptionsFromEnvironment({})).toThrow(
      'EVENTBOX_TABLE_NAME is not set; EVENTBOX_CONSUMER_NAME is not set',
    );
  });
});
