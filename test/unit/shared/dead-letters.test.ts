import { describe, expect, it } from 'vitest';
import { parseDeadLetter, summarizeLetter } from '../../../lib/shared/dead-letters.js';
import { envelope, eventBridgeEventOf } from '../../../lib/testing/builders.js';

/** Telling the dead letters of a queue apart, including those Eventbox did not write. */
describe('Function: parseDeadLetter', () => {
  it("reads an event EventBridge could not deliver to its target, with the reason from the message's attributes", () => {
    const event = envelope({
      type: 'Posted',
      aggregate: { type: 'Account', id: 'a', version: 2 },
      payload: {},
    });
    const body = JSON.stringify(eventBridgeEventOf(event));

    const letter = parseDeadLetter(body, {
      ERROR_CODE: { StringValue: 'SQS.AccessDenied' },
      ERROR_MESSAGE: { StringValue: 'KMS key not accessible' },
    });

    expect(letter).toStrictEqual({
      kind: 'eventbridge.undelivered',
      reason:
        'EventBridge could not deliver it to its target: SQS.AccessDenied (KMS key not accessible)',
      body,
    });
    expect(summarizeLetter(letter)).toMatchObject({
      eventId: event.id,
      eventType: 'Posted',
      aggregate: 'Account#a',
    });
  });

  it("says an event without attributes may also be one the queue's redrive policy moved", () => {
    const body = JSON.stringify(
      eventBridgeEventOf(
        envelope({
          type: 'Posted',
          aggregate: { type: 'Account', id: 'a', version: 1 },
          payload: {},
        }),
      ),
    );

    expect(parseDeadLetter(body)).toMatchObject({
      kind: 'eventbridge.undelivered',
      reason: expect.stringContaining(
        "or the queue's redrive policy moved it after maxReceiveCount",
      ),
    });
  });

  it('still calls a body with no reason and no event unknown', () => {
    expect(parseDeadLetter('{"hello":1}')).toStrictEqual({
      kind: 'unknown',
      reason: 'no reason recorded',
      body: '{"hello":1}',
    });
  });
});
