import { describe, expect, it } from 'vitest';
import { relayOptionsFromEnvironment } from '../../../lib/relay/index.js';
import { InvalidOptionsError } from '../../../lib/shared/errors.js';

describe('Function: relayOptionsFromEnvironment', () => {
  it('reads what the relay construct sets', () => {
    expect(
      relayOptionsFromEnvironment({
        EVENTBOX_EVENT_BUS_NAME: 'orders-bus',
        EVENTBOX_DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
        EVENTBOX_RELAY_CONCURRENCY: '8',
        EVENTBOX_MAX_ENTRY_BYTES: '262144',
      }),
    ).toStrictEqual({
      eventBusName: 'orders-bus',
      deadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/dlq',
      concurrency: 8,
      maxEntryBytes: 262_144,
    });
  });

  it('leaves out what is not set, and ignores the unprefixed names of a user', () => {
    expect(
      relayOptionsFromEnvironment({ EVENTBOX_EVENT_BUS_NAME: 'b', CONCURRENCY: '3' }),
    ).toStrictEqual({ eventBusName: 'b' });
  });

  it('names the missing bus', () => {
    expect(() => relayOptionsFromEnvironment({})).toThrow(InvalidOptionsError);
    expect(() => relayOptionsFromEnvironment({})).toThrow('EVENTBOX_EVENT_BUS_NAME is not set');
  });
});
